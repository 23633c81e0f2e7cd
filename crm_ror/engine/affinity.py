"""Association metrics over baskets (market-basket analysis), on plain Python data.

A basket is the set of distinct products of one confirmed order. For an ordered pair (A, B):

- ``support(A, B)`` = baskets holding both A and B / all baskets
- ``confidence(A -> B)`` = support(A, B) / support(A)
- ``lift(A -> B)`` = confidence(A -> B) / support(B)

``pair_rules`` computes the same figures set-wise on arrays (a sparse order x product matrix: the
pair counts are its Gram matrix), for ``crm.ror.product.affinity``; the tests check it against
``association_rules``.
"""

from collections import Counter
from dataclasses import dataclass
from itertools import permutations

import numpy as np
from scipy import sparse


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


class PairCounter:
    """Item and pair counts of baskets fed in batches of whole orders (an order in one batch only).

    Each batch is a 0/1 sparse matrix X of its orders by product id; its pair counts are XᵀX, whose
    diagonal holds the item counts. Summing the batches' XᵀX keeps the memory to one batch plus
    the pairs, whatever the number of orders.
    """

    def __init__(self):
        self.total = 0
        self.gram = None

    def add(self, order_ids, product_ids):
        """Count one batch of (order, product) rows; duplicated rows are ignored."""
        order_ids = np.asarray(order_ids, dtype=np.int64)
        product_ids = np.asarray(product_ids, dtype=np.int64)
        if not len(order_ids):
            return
        orders, order_index = np.unique(order_ids, return_inverse=True)
        size = int(product_ids.max()) + 1
        baskets = sparse.csr_matrix(
            (np.ones(len(order_index), dtype=np.int64), (order_index, product_ids)), shape=(len(orders), size)
        )
        baskets.sum_duplicates()
        baskets.data[:] = 1  # a product twice in an order is one basket item
        gram = (baskets.T @ baskets).tocsr()
        if self.gram is None:
            self.gram = gram
        else:
            width = max(self.gram.shape[0], size)
            self.gram = _resized(self.gram, width) + _resized(gram, width)
        self.total += len(orders)

    def rules(self, min_support=0.0):
        """Rules as in ``association_rules``: dict of equal-length arrays ``a``, ``b`` (product ids),
        ``count``, ``support``, ``confidence``, ``lift``, both directions of each pair whose support is
        at least ``min_support``."""
        names = ("a", "b", "count", "support", "confidence", "lift")
        if not self.total:
            return {name: np.array([]) for name in names}
        items = self.gram.diagonal()
        pairs = self.gram.tocoo()
        total = float(self.total)
        support = pairs.data / total
        keep = (pairs.row != pairs.col) & (support >= min_support)
        row, col, count, support = pairs.row[keep], pairs.col[keep], pairs.data[keep], support[keep]
        confidence = count / items[row]
        return {
            "a": row.astype(np.int64),
            "b": col.astype(np.int64),
            "count": count,
            "support": support,
            "confidence": confidence,
            "lift": confidence / (items[col] / total),
        }


def _resized(matrix, width):
    return (
        matrix
        if matrix.shape[0] == width
        else sparse.csr_matrix(
            (
                matrix.data,
                matrix.indices,
                np.append(matrix.indptr, [matrix.indptr[-1]] * (width - matrix.shape[0])),
            ),
            shape=(width, width),
        )
    )


def pair_rules(order_ids, product_ids, min_support=0.0):
    """``association_rules`` on baskets given as parallel arrays of (order, product) rows, product
    keys being non-negative integers (ids): one batch of a :class:`PairCounter`."""
    counter = PairCounter()
    counter.add(order_ids, product_ids)
    return counter.rules(min_support)
