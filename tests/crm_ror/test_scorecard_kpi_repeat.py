"""The repeat customers KPIs read at the document level give the figures of their definition on the
profiles' sales lines: every line of the company up to the period end (the former query)."""

from datetime import datetime, time, timedelta

from odoo import Command
from odoo.tests import new_test_user
from odoo.tools import SQL

from . import test_purchases
from .value_common import CrmRorScenarioCase

# The purchase cases of test_purchases (credit notes by reversal link and by reconciliation, an old
# credit note paying a new invoice, a down payment and its final invoice), built here again. Their
# builders are classmethods; taken unbound from the class, so that they build on this class.
_PURCHASES = vars(test_purchases.TestPurchases)


class TestScorecardKpiRepeat(CrmRorScenarioCase):
    _refund_of = _PURCHASES["_refund_of"]
    _reconcile = _PURCHASES["_reconcile"]
    _pay = _PURCHASES["_pay"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Kpi = cls.env["crm.ror.scorecard.kpi"]
        cls.product.invoice_policy = "order"
        for name in sorted(_PURCHASES):
            if name.startswith("_case_"):
                partner = cls.env["res.partner"].create(
                    {"name": f"ROR repeat {name[6:]}", "is_company": True}
                )
                _PURCHASES[name].__get__(None, cls)(partner)
        # Two teams and salespeople: a customer buying from both, a credit note of the other team
        # on an invoice of the first, a down payment of one salesperson deducted by another's.
        a = cls.company_a
        cls.team_x = cls.env["crm.team"].create({"name": "ROR repeat X", "company_id": a.id})
        cls.team_y = cls.env["crm.team"].create({"name": "ROR repeat Y", "company_id": a.id})
        seller_x, seller_y = (
            new_test_user(
                cls.env, login, groups="sales_team.group_sale_salesman", company_id=a.id, company_ids=a.ids
            )
            for login in ("ror_repeat_x", "ror_repeat_y")
        )
        Partner = cls.env["res.partner"]
        both = Partner.create({"name": "ROR repeat both teams", "is_company": True})
        for days, team, seller in (
            (250, cls.team_x, seller_x),
            (40, cls.team_y, seller_y),
            (8, cls.team_x, seller_y),
        ):
            invoice = cls._invoice(a, both, days, [(1, 60.0, 0.0)], post=False)
            invoice.write({"team_id": team.id, "invoice_user_id": seller.id})
            invoice.action_post()
        credited = cls._invoice(
            a, Partner.create({"name": "ROR repeat credited"}), 20, [(1, 90.0, 0.0)], post=False
        )
        credited.write({"team_id": cls.team_x.id, "invoice_user_id": seller_x.id})
        credited.action_post()
        refund = cls._refund_of(credited, 3, price=30.0)
        refund.button_draft()
        refund.write({"team_id": cls.team_y.id, "invoice_user_id": seller_y.id})
        refund.action_post()
        # an old credit note of team Y paying a newer invoice of team X: it goes to no purchase
        # (the invoice is later), so team Y sees one purchase of this customer, not two
        paid_by_credit = Partner.create({"name": "ROR repeat paid by an old credit", "is_company": True})
        moves = []
        for days, team, move_type in (
            (45, cls.team_y, "out_invoice"),
            (100, cls.team_y, "out_refund"),
            (33, cls.team_x, "out_invoice"),
        ):
            move = cls._invoice(a, paid_by_credit, days, [(1, 70.0, 0.0)], move_type=move_type, post=False)
            move.write({"team_id": team.id, "invoice_user_id": seller_y.id})
            move.action_post()
            moves.append(move)
        cls._reconcile(moves[1], moves[2])
        # orders, for the order source: a customer ordering twice, once in the last 30 days
        for days, team in ((90, cls.team_x), (12, cls.team_y), (400, cls.team_x)):
            order = (
                cls.env["sale.order"]
                .with_company(a)
                .create(
                    {
                        "partner_id": both.id if days != 400 else cls.p6.id,
                        "company_id": a.id,
                        "team_id": team.id,
                        "user_id": seller_x.id,
                        "order_line": [
                            Command.create(
                                {"product_id": cls.product.id, "product_uom_qty": 1, "tax_id": False}
                            )
                        ],
                    }
                )
            )
            order.action_confirm()
            order.date_order = datetime.combine(cls._days_ago(days), time(hour=12))

    def _period(self, date_from, date_to, company, team):
        return {
            "company": company,
            "team": team,
            "date_from": date_from,
            "date_to": date_to,
            "datetime_from": datetime.combine(date_from, time.min),
            "datetime_to": datetime.combine(date_to + timedelta(days=1), time.min),
        }

    def _from_lines(self, period):
        """The definition: every sales line of the company up to the period end, by purchase."""
        company, team = period["company"], period["team"]
        lines = self.env["crm.ror.customer.profile"]._ror_sales_lines_query(company, period["date_to"])
        [row] = self.env.execute_query(
            SQL(
                """
                WITH docs AS (
                    SELECT partner_id, doc_id, min(doc_date) AS doc_date, min(user_id) AS user_id
                      FROM (%(lines)s) lines
                     WHERE is_purchase AND partner_id IS NOT NULL
                       AND (%(team)s::int IS NULL OR team_id = %(team)s)
                  GROUP BY partner_id, doc_id
                ),
                customers AS (
                    SELECT partner_id FROM docs
                  GROUP BY partner_id
                    HAVING count(*) >= 2 AND max(doc_date) >= %(date_from)s
                )
                SELECT (SELECT count(*) FROM customers),
                       (SELECT count(DISTINCT user_id) FROM docs WHERE doc_date >= %(date_from)s)
                """,
                lines=lines,
                team=team.id or None,
                date_from=period["date_from"],
            )
        )
        return row

    def test_repeat_customers_match_the_sales_lines_definition(self):
        self.env.flush_all()
        seen = set()
        teams = (self.env["crm.team"], self.team_x, self.team_y)
        for company in (self.company_a, self.company_b):
            for source in ("invoice", "order"):
                company.ror_source = source
                # windows ending on every day a document is dated (and the day before), of several lengths
                for end in range(0, 260):
                    if end % 7 and end not in (
                        3,
                        5,
                        8,
                        9,
                        10,
                        11,
                        12,
                        19,
                        20,
                        29,
                        30,
                        31,
                        39,
                        40,
                        50,
                        55,
                        60,
                    ):
                        continue
                    for length in (1, 10, 30, 90, 365):
                        for team in teams:
                            period = self._period(
                                self._days_ago(end + length - 1), self._days_ago(end), company, team
                            )
                            expected = self._from_lines(period)
                            got = self.Kpi._ror_repeat_customers(period)
                            self.assertEqual(
                                tuple(got), tuple(expected), (company.name, source, end, length, team.name)
                            )
                            seen.add(tuple(expected))
        # the comparison is not vacuous: repeat customers and salespeople, several values of each
        self.assertGreater(len({repeat for repeat, _sellers in seen}), 2, seen)
        self.assertGreater(len({sellers for _repeat, sellers in seen}), 2, seen)
