"""Fixtures shared by the crm_loyalty database tests: a tiered loyalty program, invoices, orders."""

from odoo import Command, fields
from odoo.addons.crm_loyalty.models.loyalty_history import TIER, ledger_scope
from odoo.tests import freeze_time

from ..common import CrmTransactionCase


class LoyaltyCase(CrmTransactionCase):
    ledger = False  # whether the fixture's loyalty program keeps the points ledger

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.company.email = "shop@example.com"
        cls.program = cls.env["loyalty.program"].create(
            {
                "name": "Club Card",
                "program_type": "loyalty",
                "company_id": cls.company.id,
                "ledger_enabled": cls.ledger,
                "crm_tier_window_months": 12,
                "crm_point_value": 0.01,
                "crm_tier_ids": [
                    Command.create({"name": "Bronze", "min_amount": 0.0, "multiplier": 1.0}),
                    # multipliers apply to ledger postings only
                    Command.create(
                        {"name": "Silver", "min_amount": 1000.0, "multiplier": 1.5 if cls.ledger else 1.0}
                    ),
                    Command.create(
                        {"name": "Gold", "min_amount": 5000.0, "multiplier": 2.0 if cls.ledger else 1.0}
                    ),
                ],
            }
        )
        cls.bronze, cls.silver, cls.gold = cls.program.crm_tier_ids.sorted("min_amount")
        cls.product_a, cls.product_b, cls.product_c, cls.product_d = cls.env["product.product"].create(
            [
                {"name": name, "list_price": price, "taxes_id": [Command.clear()], "sale_ok": True}
                for name, price in (("Tea", 10.0), ("Coffee", 50.0), ("Honey", 5.0), ("Jam", 8.0))
            ]
        )

    @classmethod
    def _partner(cls, name):
        return cls.env["res.partner"].create({"name": name, "email": f"{name.lower()}@example.com"})

    @classmethod
    def _card(cls, partner, program=None, start="2023-01-15", **vals):
        card = cls.env["loyalty.card"].create(
            {
                "program_id": (program or cls.program).id,
                "partner_id": partner.id,
                "points": 0,
                "crm_tier_start_date": start,
                **{key: value for key, value in vals.items() if not key.startswith("crm_tier_")},
            }
        )
        cls._force_tier(card, **{key: value for key, value in vals.items() if key.startswith("crm_tier_")})
        return card

    @staticmethod
    def _force_tier(card, **vals):
        """Fixture: put a card in a tier state (as the evaluation would), without a history line."""
        if vals:
            with ledger_scope(TIER):
                card.write(vals)

    @classmethod
    def _invoice(cls, partner, amount, date, refund=False):
        move = cls.env["account.move"].create(
            {
                "move_type": "out_refund" if refund else "out_invoice",
                "partner_id": partner.id,
                "invoice_date": date,
                "date": date,
                "invoice_line_ids": [
                    Command.create({"name": "Goods", "quantity": 1, "price_unit": amount, "tax_ids": []})
                ],
            }
        )
        move.action_post()
        return move

    @classmethod
    def _order(cls, partner, lines, date):
        """A confirmed order on ``date`` (confirmation stamps the order date with 'now')."""
        with freeze_time(date):
            order = cls.env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": qty})
                        for product, qty in lines
                    ],
                }
            )
            order.action_confirm()
        return order

    def _mails(self, cards):
        return self.env["mail.mail"].search([("model", "=", "loyalty.card"), ("res_id", "in", cards.ids)])

    @staticmethod
    def _today(value):
        return fields.Date.to_date(value)


class MemberCase(LoyaltyCase):
    """The tier program with one member, Ann, and her card."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ann = cls._partner("Ann")
        cls.card = cls._card(cls.ann)
