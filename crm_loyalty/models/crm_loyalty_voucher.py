from odoo import api, fields, models


class CrmLoyaltyVoucher(models.Model):
    """A voucher issued by a points-to-vouchers conversion: the member card it came from, the
    points its ledger redemption took, and the single-use coupon holding its value."""

    _name = "crm.loyalty.voucher"
    _description = "Loyalty Voucher"
    _order = "period_date desc, id desc"
    _rec_name = "voucher_card_id"

    conversion_id = fields.Many2one(
        "crm.loyalty.voucher.conversion", required=True, ondelete="restrict", index=True, readonly=True
    )
    company_id = fields.Many2one(related="conversion_id.company_id", store=True)
    card_id = fields.Many2one(
        "loyalty.card", string="Member Card", required=True, ondelete="restrict", readonly=True
    )
    partner_id = fields.Many2one(related="card_id.partner_id", store=True, index=True)
    period_date = fields.Date(string="Period", required=True, readonly=True, index=True)
    points = fields.Float(readonly=True, help="Points the voucher took from the member card.")
    currency_id = fields.Many2one(related="conversion_id.currency_id")
    amount = fields.Monetary(string="Value", readonly=True)
    voucher_card_id = fields.Many2one(
        "loyalty.card", string="Voucher", required=True, ondelete="restrict", readonly=True
    )
    code = fields.Char(related="voucher_card_id.code")
    ledger_line_id = fields.Many2one(
        "loyalty.history", string="Redemption", ondelete="restrict", readonly=True
    )
    expiration_date = fields.Date(string="Valid Until", readonly=True, index=True)
    reminder_date = fields.Date(readonly=True, help="Day the reminder before the voucher lapses went out.")
    state = fields.Selection(
        [("valid", "Valid"), ("used", "Used"), ("expired", "Expired")], compute="_compute_state"
    )

    _sql_constraints = [
        (
            "one_per_card_and_period",
            "UNIQUE (conversion_id, card_id, period_date)",
            "A conversion issues at most one voucher per card and period.",
        ),
    ]

    @api.depends("voucher_card_id.points", "expiration_date")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        for voucher in self:
            if voucher.voucher_card_id.points <= 0:
                voucher.state = "used"
            elif voucher.expiration_date and voucher.expiration_date < today:
                voucher.state = "expired"
            else:
                voucher.state = "valid"
