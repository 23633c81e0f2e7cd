"""KPI domains: literals, ids and date helpers evaluate; records, modules and code do not."""

import datetime
import time

import pytest

from odoo.addons.crm_scorecard.engine import domain

# Not a speed target: unguarded, these inputs run for minutes or exhaust memory (10**9 items,
# 9**9**9); refused before any evaluation they take milliseconds. The bound tells the two apart
# with room for a loaded CI machine.
GUARD_SECONDS = 5.0

TODAY = datetime.date(2025, 3, 15)


def _eval(text):
    return domain.evaluate(text, uid=7, company_id=3, company_ids=[3, 4], today=TODAY)


def test_literals_ids_and_date_helpers():
    assert _eval("[]") == []
    assert _eval("") == []
    assert _eval("[('state', '=', 'sale'), ('amount', '>', -5.5), ('active', '=', False)]") == [
        ("state", "=", "sale"),
        ("amount", ">", -5.5),
        ("active", "=", False),
    ]
    assert _eval("['|', ('user_id', '=', uid), ('company_id', 'in', company_ids)]") == [
        "|",
        ("user_id", "=", 7),
        ("company_id", "in", [3, 4]),
    ]
    assert _eval("[('company_id', '=', company_id)]") == [("company_id", "=", 3)]
    assert _eval("[('date', '>=', (context_today() - relativedelta(months=3)).strftime('%Y-%m-%d'))]") == [
        ("date", ">=", "2024-12-15")
    ]
    assert _eval("[('date', '<', datetime.date(2025, 1, 1) + datetime.timedelta(days=1))]") == [
        ("date", "<", datetime.date(2025, 1, 2))
    ]
    assert _eval("[('date', '>=', context_today().replace(day=1).isoformat())]") == [
        ("date", ">=", "2025-03-01")
    ]


# What the review measured and what an attacker would try next.
HOSTILE = [
    "[('id', '=', user.env.ref('base.group_system').write({'users': [(4, uid)]}) and 0)]",
    "[('id', '=', env['res.users'])]",
    "[('id', '=', uid.__class__)]",
    "[('id', '=', datetime.sys)]",
    "[('id', '=', context_today.__globals__)]",
    "[('id', '=', relativedelta.__init__)]",
    "[('id', '=', __import__('os'))]",
    "[('id', '=', open('/etc/passwd'))]",
    "[('name', '=', 'x' * 10**9)]",
    "[('id', '=', 10**10**10)]",
    "[('id', '=', 99999999999)]",
    "[('id', 'in', [x for x in range(10**9)])]",
    "[('id', '=', (lambda: 1)())]",
    "[('id', '=', {'a': 1}['a'])]",
    "[('date', '=', context_today().strftime('%Y' * 1000))]",
    "[" + ",".join(["('id', '=', 1)"] * 2000) + "]",
    "('id', '=', 1)",
    "'not a domain'",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_anything_else_is_refused_fast(text):
    started = time.perf_counter()
    with pytest.raises(domain.DomainError):
        _eval(text)
    assert time.perf_counter() - started < GUARD_SECONDS
