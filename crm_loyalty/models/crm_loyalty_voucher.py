from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression


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
        [("valid", "Valid"), ("used", "Used"), ("lapsed", "Lapsed")],
        compute="_compute_state",
        search="_search_state",
        help="Lapsed: not used by its expiry date. Its value is lost: the points it took left the card "
        "at the conversion and are not given back.",
    )

    _sql_constraints = [
        (
            "one_per_card_and_period",
            "UNIQUE (conversion_id, card_id, period_date)",
            "A conversion issues at most one voucher per card and period.",
        ),
    ]

    def _state_domains(self):
        today = fields.Date.context_today(self)
        unused = [("voucher_card_id.points", ">", 0)]
        return {
            "used": [("voucher_card_id.points", "<=", 0)],
            "lapsed": expression.AND([unused, [("expiration_date", "<", today)]]),
            "valid": expression.AND(
                [unused, ["|", ("expiration_date", "=", False), ("expiration_date", ">=", today)]]
            ),
        }

    @api.depends("voucher_card_id.points", "expiration_date")
    def _compute_state(self):
        domains = self._state_domains()
        for voucher in self:
            voucher.state = next(
                state for state, domain in domains.items() if voucher.filtered_domain(domain)
            )

    def _search_state(self, operator, value):
        # the voucher list's Valid / Used / Lapsed filters
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Vouchers are filtered by state with =, !=, in or not in only."))
        states = [value] if isinstance(value, str) else list(value or [])
        domains = self._state_domains()
        domain = expression.OR(
            [domains[state] for state in states if state in domains] or [expression.FALSE_DOMAIN]
        )
        return ["!", *expression.normalize_domain(domain)] if operator in ("!=", "not in") else domain
