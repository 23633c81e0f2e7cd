from datetime import timedelta

from odoo import fields, models

EXPIRING_SOON_DAYS = 30


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_loyalty_card_id = fields.Many2one(
        "loyalty.card",
        compute="_compute_crm_loyalty",
        string="Loyalty Card",
        groups="crm_loyalty.group_crm_loyalty_user",
    )
    crm_loyalty_tier_id = fields.Many2one(
        "loyalty.tier",
        compute="_compute_crm_loyalty",
        string="Loyalty Tier",
        groups="crm_loyalty.group_crm_loyalty_user",
    )
    crm_loyalty_points = fields.Float(
        compute="_compute_crm_loyalty", string="Loyalty Balance", groups="crm_loyalty.group_crm_loyalty_user"
    )
    crm_loyalty_expiring_points = fields.Float(
        compute="_compute_crm_loyalty",
        string="Points Expiring Soon",
        groups="crm_loyalty.group_crm_loyalty_user",
        help="Points of the loyalty card that expire within the next 30 days.",
    )

    def _compute_crm_loyalty(self):
        """The partner's main loyalty card: the card of a loyalty program of the current company
        (or of no company) held by the partner, or else by its company, the one with the highest
        tier then balance."""
        self.crm_loyalty_card_id = False
        self.crm_loyalty_tier_id = False
        self.crm_loyalty_points = 0.0
        self.crm_loyalty_expiring_points = 0.0
        partners = self.filtered("id")
        # the user's own rights: cards as stock lets him read them, ledger lots of his customers
        if not partners or not self.env["loyalty.card"].has_access("read"):
            return
        cards = self.env["loyalty.card"].search(
            [
                ("partner_id", "in", (partners | partners.commercial_partner_id).ids),
                ("program_id.program_type", "=", "loyalty"),
                ("company_id", "in", [self.env.company.id, False]),
            ]
        )
        best = {}
        for card in cards.sorted(lambda c: (c.crm_tier_id.min_amount, c.points), reverse=True):
            best.setdefault(card.partner_id.id, card)
        expiring = self._crm_loyalty_expiring_points(cards.browse([card.id for card in best.values()]))
        for partner in partners:
            card = best.get(partner.id) or best.get(partner.commercial_partner_id.id)
            if not card:
                continue
            partner.crm_loyalty_card_id = card.id
            partner.crm_loyalty_tier_id = card.crm_tier_id.id
            partner.crm_loyalty_points = card.points
            partner.crm_loyalty_expiring_points = expiring.get(card.id, 0.0)

    def _crm_loyalty_expiring_points(self, cards):
        """``{card id: points expiring within EXPIRING_SOON_DAYS}``: the ledger's earned lots
        still holding points whose expiry date falls in the coming days."""
        today = fields.Date.context_today(self)
        groups = self.env["loyalty.history"]._read_group(
            [
                ("card_id", "in", cards.ids),
                ("remaining_points", ">", 0),
                ("expiry_date", ">=", today),
                ("expiry_date", "<=", today + timedelta(days=EXPIRING_SOON_DAYS)),
            ],
            ["card_id"],
            ["remaining_points:sum"],
        )
        return {card.id: points for card, points in groups}

    def action_crm_view_loyalty_card(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "loyalty.card",
            "res_id": self.crm_loyalty_card_id.id,
            "view_mode": "form",
        }

    def _crm_loyalty_contactable(self):
        """The partners loyalty mails may reach: an email, not blacklisted, and not marked
        do-not-contact by crm_ror when it is installed (read softly: no dependency)."""
        partners = self.filtered(
            lambda partner: partner.active and partner.email and not partner.is_blacklisted
        )
        if "crm_ror_do_not_contact" in self._fields:
            partners = partners.filtered(
                lambda partner: not partner.crm_ror_do_not_contact
                and not partner.commercial_partner_id.crm_ror_do_not_contact
            )
        return partners
