"""The crm_loyalty demo story: members across tiers, a year of earned points, expiring lots."""

import random
from datetime import datetime, time, timedelta

from odoo import Command, api, fields, models

SEED = 20261202
STORY_CONTEXT = {"tracking_disable": True, "mail_create_nosubscribe": True, "mail_notrack": True}
MEMBERS = 15
# yearly spend of a member, by share of the members: Gold, Silver, Bronze (tiers at 10,000 and 2,000)
SPEND_BANDS = ((0.2, 11000, 18000), (0.4, 2500, 8000), (1.0, 300, 1800))


class CrmLoyaltyDemo(models.AbstractModel):
    """Builds the demo story of crm_loyalty on install with demo data: Club Card members whose
    invoiced spend of the last twelve months puts them in every tier, points earned on those
    invoices (with the tier's multiplier) and redeemed; on the audited-ledger program, lots earned
    over the last fourteen months, so that some have expired and some expire within the notice.
    Deterministic (seeded), with dates relative to today."""

    _name = "crm.loyalty.demo"
    _description = "Loyalty demo story"

    @api.model
    def _load_story(self):
        """Called once, by the demo data at install (demo <function>s do not run again on `-u`)."""
        # no followers, chatter or tracking messages for the story's records
        self.with_context(**STORY_CONTEXT)._make_story()

    def _make_story(self):
        rng = random.Random(SEED)
        today = fields.Date.context_today(self)
        club = self.env.ref("crm_loyalty.loyalty_program_club_card_demo")
        audited = self.env.ref("crm_loyalty.loyalty_program_ledger_demo")
        taken = self.env["loyalty.card"].search([("program_id", "in", (club | audited).ids)]).partner_id
        partners = self.env["res.partner"].search(
            [
                ("parent_id", "=", False),
                ("user_ids", "=", False),
                ("id", "not in", (taken | self.env["res.company"].search([]).partner_id).ids),
            ],
            order="id",
            limit=MEMBERS,
        )
        club_cards = self._story_cards(club, partners, "club")
        invoices = self._story_invoices(rng, today, club_cards.partner_id)
        club_cards._crm_tier_evaluate(today)
        for card in club_cards:
            for invoice in invoices.filtered(lambda move, card=card: move.partner_id == card.partner_id):
                card._ledger_earn(
                    f"demo:{invoice.id}",
                    invoice.amount_untaxed,
                    invoice_id=invoice.id,
                    source_type="invoice",
                    description=invoice.name,
                    date=datetime.combine(invoice.invoice_date, time(12)),
                )
            if card.points > 600 and rng.random() < 0.6:
                card._ledger_post("redeem", -500, description=self.env._("5 % off an order (demo)"))
        audited_cards = self._story_cards(audited, partners[: MEMBERS // 2], "audited")
        for card in audited_cards:
            for months in (14, 11, 6, 2):
                card._ledger_post(
                    "adjust",
                    rng.choice((40, 80, 120, 200)),
                    reason=self.env._("Points of the previous loyalty scheme (demo)"),
                    date=datetime.combine(today - timedelta(days=30 * months + rng.randint(0, 10)), time(12)),
                )
        self.env["loyalty.history"]._cron_expire_points()

    def _story_cards(self, program, partners, label):
        """Cards with xml ids of this addon: they go with the demo program when it is uninstalled
        (a program with cards cannot be deleted)."""
        return self.env["loyalty.card"]._load_records(
            [
                {
                    "xml_id": f"crm_loyalty.loyalty_card_{label}_{partner.id}_demo",
                    "values": {"program_id": program.id, "partner_id": partner.id, "points": 0},
                    "noupdate": True,
                }
                for partner in partners
            ]
        )

    def _story_invoices(self, rng, today, partners):
        """Posted invoices of the last twelve months, made in one batch."""
        product = self.env["product.product"].create(
            {"name": "Club furniture (demo)", "type": "consu", "list_price": 250.0, "standard_price": 160.0}
        )
        vals = []
        for index, partner in enumerate(partners):
            share = (index + 0.5) / len(partners)
            low, high = next((low, high) for limit, low, high in SPEND_BANDS if share <= limit)
            spend = rng.uniform(low, high)
            count = rng.randint(2, 5)
            for day in sorted(rng.sample(range(5, 360), count), reverse=True):
                date = today - timedelta(days=day)
                vals.append(
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": date,
                        "date": date,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "quantity": 1,
                                    "price_unit": round(spend / count, 2),
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                )
        vals.sort(key=lambda move: move["invoice_date"])
        invoices = self.env["account.move"].create(vals)
        invoices.action_post()
        return invoices
