"""Association metrics over baskets (market-basket analysis), on plain Python data.

A basket is the set of distinct products of one confirmed order. For an ordered pair (A, B):

- ``support(A, B)`` = baskets holding both A and B / all baskets
- ``confidence(A -> B)`` = support(A, B) / support(A)
- ``lift(A -> B)`` = confidence(A -> B) / support(B)

The SQL in ``crm.ror.product.affinity`` computes the same figures set-wise; the tests check
it against this module.
"""

from collections import Counter
from dataclasses import dataclass
from itertools import permutations


@dataclass(frozen=True)
class Rule:
    """Association rule ``antecedent -> consequent``."""

    antecedent: object
    consequent: object
    count: int
    support: float
    confidence: float
    lift: float


def association_rules(baskets, min_support=0.0):
    """Rules for every ordered pair of distinct products bought together.

    :param baskets: iterable of iterables of product keys (duplicates in a basket are ignored)
    :param min_support: keep pairs whose support is at least this fraction (0..1)
    :return: dict ``{(a, b): Rule}``, both directions of each kept pair
    """
    baskets = [frozenset(basket) for basket in baskets]
    baskets = [basket for basket in baskets if basket]
    total = len(baskets)
    if not total:
        return {}
    item_count = Counter()
    pair_count = Counter()
    for basket in baskets:
        item_count.update(basket)
        pair_count.update(permutations(basket, 2))
    rules = {}
    for (a, b), count in pair_count.items():
        support = count / total
        if support < min_support:
            continue
        support_a = item_count[a] / total
        support_b = item_count[b] / total
        confidence = support / support_a
        rules[(a, b)] = Rule(a, b, count, support, confidence, confidence / support_b)
    return rules


def cross_sell(bought, rules, min_lift=1.0):
    """Best rule for each product the customer has not bought, reached from one they have.

    :param bought: set of product keys the customer bought
    :param rules: output of :func:`association_rules`
    :param min_lift: keep rules with at least this lift
    :return: dict ``{consequent: Rule}`` keeping the rule of highest confidence (then lift)
    """
    best = {}
    for (a, b), rule in rules.items():
        if a not in bought or b in bought or rule.lift < min_lift:
            continue
        current = best.get(b)
        if current is None or (rule.confidence, rule.lift) > (current.confidence, current.lift):
            best[b] = rule
    return best
