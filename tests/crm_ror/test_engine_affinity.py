"""Association metrics on a small basket set, checked by hand."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.crm_ror.engine.affinity import PairCounter, association_rules, cross_sell, pair_rules

# 5 orders: A in 4, B in 4, C in 2, D in 1; A+B in 3, A+C in 2, B+C / A+D / B+D in 1.
BASKETS = [{"A", "B"}, {"A", "B", "C"}, {"A", "C"}, {"B"}, {"A", "B", "D"}]


def test_support_confidence_lift():
    rules = association_rules(BASKETS)
    ab = rules[("A", "B")]
    assert ab.count == 3
    assert ab.support == pytest.approx(0.6)
    assert ab.confidence == pytest.approx(0.75)  # 3 of the 4 orders with A
    assert ab.lift == pytest.approx(0.75 / 0.8)  # B is in 80 % of orders: below chance
    ca = rules[("C", "A")]
    assert ca.confidence == pytest.approx(1.0)
    assert ca.lift == pytest.approx(1.25)
    ac = rules[("A", "C")]
    assert ac.confidence == pytest.approx(0.5)
    assert ac.lift == pytest.approx(1.25)  # lift is symmetric
    assert rules[("B", "C")].lift == pytest.approx(0.25 / 0.4)


def test_min_support_keeps_frequent_pairs_both_ways():
    rules = association_rules(BASKETS, min_support=0.3)
    assert set(rules) == {("A", "B"), ("B", "A"), ("A", "C"), ("C", "A")}


def test_duplicates_and_empty_baskets_are_ignored():
    rules = association_rules([["A", "A", "B"], [], ["B"]])
    assert rules[("A", "B")].support == pytest.approx(0.5)
    assert association_rules([]) == {}


def test_cross_sell_picks_best_rule_for_products_not_bought():
    rules = association_rules(BASKETS)
    picks = cross_sell({"A"}, rules, min_lift=1.1)
    # A->B has lift 0.94 < 1.1; A->C (confidence 0.5) and A->D (0.25) both have lift 1.25.
    assert set(picks) == {"C", "D"}
    assert picks["C"].antecedent == "A"
    picks = cross_sell({"C", "D"}, rules, min_lift=1.0)
    # A is reached from C (conf 1.0) and D (conf 1.0); B only from D (conf 1.0, lift 1.25).
    assert set(picks) == {"A", "B"}


def _rows(baskets):
    return [order for order, basket in enumerate(baskets) for _ in basket], [
        product for basket in baskets for product in basket
    ]


def _as_rules(arrays):
    return {
        (a, b): (count, support, confidence, lift)
        for a, b, count, support, confidence, lift in zip(
            *(arrays[name].tolist() for name in ("a", "b", "count", "support", "confidence", "lift")),
            strict=True,
        )
    }


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(1, 7), max_size=5), min_size=1, max_size=25),
    st.sampled_from([0.0, 0.1, 0.3]),
)
def test_pair_rules_match_association_rules(baskets, min_support):
    """The array form gives the same rules as the plain one, duplicates in a basket included."""
    baskets = [basket for basket in baskets if basket]  # an order with no product line is no row
    expected = {
        key: (rule.count, rule.support, rule.confidence, rule.lift)
        for key, rule in association_rules(baskets, min_support).items()
    }
    got = _as_rules(pair_rules(*_rows(baskets), min_support=min_support))
    assert set(got) == set(expected)
    for key, figures in expected.items():
        assert got[key] == pytest.approx(figures)


def test_pair_rules_on_the_hand_computed_baskets():
    ids = {"A": 1, "B": 2, "C": 3, "D": 4}
    rules = _as_rules(pair_rules(*_rows([[ids[p] for p in sorted(b)] for b in BASKETS])))
    assert rules[(1, 2)] == pytest.approx((3, 0.6, 0.75, 0.75 / 0.8))
    assert rules[(3, 1)] == pytest.approx((2, 0.4, 1.0, 1.25))
    assert pair_rules([], [])["a"].size == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(1, 40), min_size=1, max_size=5), min_size=1, max_size=25),
    st.lists(st.integers(1, 24), max_size=4),
)
def test_batches_of_whole_orders_count_as_one(baskets, cuts):
    """Fed in batches (the products of later batches may have higher ids), the counts are the same."""
    orders, products = _rows(baskets)
    counter = PairCounter()
    bounds = [0, *sorted({min(cut, len(baskets)) for cut in cuts}), len(baskets)]
    for low, high in itertools.pairwise(bounds):
        rows = [index for index, order in enumerate(orders) if low <= order < high]
        counter.add([orders[i] for i in rows], [products[i] for i in rows])
    assert _as_rules(counter.rules()) == pytest.approx(_as_rules(pair_rules(orders, products)))
