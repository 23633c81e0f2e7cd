from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import create_index

# Context keys of the ledger (see loyalty_card.py):
# - crm_loyalty_posting: set by loyalty.card._ledger_post only; the one way ledger lines and
#   ledger card balances are written.
# - crm_loyalty_stock_skip: set around sale_loyalty's own flows (confirm, cancel, reward lines);
#   their direct point writes and history create/delete on ledger cards are left out because the
#   ledger posts (or reverses) the same movements itself right after.
MOVE_TYPES = [
    ("earn", "Earn"),
    ("redeem", "Redeem"),
    ("expire", "Expire"),
    ("adjust", "Adjust"),
    ("reverse", "Reverse"),
]
SOURCE_TYPES = [
    ("sale_order", "Sales Order"),
    ("invoice", "Invoice"),
    ("credit_note", "Credit Note"),
    ("manual", "Manual"),
    ("expiry", "Expiry"),
]


class LoyaltyHistory(models.Model):
    _inherit = "loyalty.history"

    card_id = fields.Many2one(index=True)
    move_type = fields.Selection(
        MOVE_TYPES,
        readonly=True,
        index=True,
        help="Empty on history lines posted before the ledger was enabled.",
    )
    points = fields.Float(
        compute="_compute_points",
        store=True,
        help="Signed points of the movement: issued minus used.",
    )
    balance_after = fields.Float(readonly=True, help="Card balance right after this line was posted.")
    date = fields.Datetime(default=fields.Datetime.now, readonly=True, index=True)
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)
    partner_id = fields.Many2one(related="card_id.partner_id", store=True, index=True, string="Customer")
    program_id = fields.Many2one(related="card_id.program_id", store=True, index=True)
    sale_order_id = fields.Many2one("sale.order", readonly=True, index="btree_not_null")
    invoice_id = fields.Many2one(
        "account.move", readonly=True, index="btree_not_null", help="Invoice or credit note of the movement."
    )
    source_type = fields.Selection(SOURCE_TYPES, readonly=True)
    expiry_date = fields.Date(
        readonly=True, index="btree_not_null", help="Last day the earned points are usable."
    )
    remaining_points = fields.Float(
        compute="_compute_remaining_points",
        store=True,
        help="Points of this earned lot not yet redeemed, expired or reversed.",
    )
    earn_multiplier = fields.Float(readonly=True, help="Multiplier applied to the base points (tiers).")
    base_points = fields.Float(readonly=True, help="Points before the earn multiplier.")
    idempotency_key = fields.Char(
        readonly=True, help="Posting key, unique per card: a source is never credited twice."
    )
    source_key = fields.Char(
        readonly=True, index="btree_not_null", help="Source line the posting belongs to."
    )
    reversed_line_id = fields.Many2one(
        "loyalty.history", readonly=True, index="btree_not_null", ondelete="restrict"
    )
    reversal_line_ids = fields.One2many("loyalty.history", "reversed_line_id", readonly=True)
    reason = fields.Text(readonly=True)
    consumption_ids = fields.One2many(
        "crm.loyalty.lot.consumption", "line_id", readonly=True, string="Lots Consumed"
    )
    lot_consumption_ids = fields.One2many(
        "crm.loyalty.lot.consumption", "lot_id", readonly=True, string="Consumed By"
    )

    _sql_constraints = [
        (
            "crm_loyalty_idempotency_key_unique",
            "UNIQUE(card_id, idempotency_key)",
            "This movement is already posted on the card (same idempotency key).",
        ),
    ]

    def init(self):
        res = super().init()
        # open lots of a card, by expiry: FIFO redemption and the nightly expiry cron
        create_index(
            self.env.cr,
            "loyalty_history_crm_open_lots_idx",
            self._table,
            ["card_id", "expiry_date"],
            where="remaining_points > 0",
        )
        # history written before this addon was installed: its date is when it was written
        self.env.cr.execute(
            SQL(
                "UPDATE loyalty_history SET date = create_date"
                " WHERE move_type IS NULL AND create_date IS NOT NULL AND date > create_date + interval '1 minute'"
            )
        )
        return res

    @api.depends("issued", "used")
    def _compute_points(self):
        for line in self:
            line.points = line.issued - line.used

    @api.depends("points", "move_type", "lot_consumption_ids.points")
    def _compute_remaining_points(self):
        lots = self.filtered(lambda line: line.move_type in ("earn", "adjust") and line.points > 0)
        (self - lots).remaining_points = 0.0
        for lot in lots:
            lot.remaining_points = lot.points - sum(lot.lot_consumption_ids.mapped("points"))

    @api.model_create_multi
    def create(self, vals_list):
        posting = self.env.context.get("crm_loyalty_posting")
        if not posting:
            card_ids = {vals.get("card_id") for vals in vals_list}
            ledger_card_ids = set(
                self.env["loyalty.card"].sudo().browse(card_ids).filtered("program_id.ledger_enabled").ids
            )
            if self.env.context.get("crm_loyalty_stock_skip"):
                vals_list = [vals for vals in vals_list if vals.get("card_id") not in ledger_card_ids]
            elif any(vals.get("card_id") in ledger_card_ids or vals.get("move_type") for vals in vals_list):
                raise UserError(
                    self.env._(
                        "Points of a ledger card move only through ledger postings (loyalty.card._ledger_post)."
                    )
                )
        return super().create(vals_list)

    def write(self, vals):
        if self.filtered("move_type"):
            raise UserError(
                self.env._(
                    "Posted ledger lines cannot be changed; post a reversing line or an adjustment instead."
                )
            )
        return super().write(vals)

    def unlink(self):
        if self.env.context.get("crm_loyalty_stock_skip"):
            # sale_loyalty deletes an order's history on cancel; ledger lines are reversed instead.
            self = self.filtered(lambda line: not line.move_type)  # noqa: PLW0642
        return super().unlink()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        if self.filtered("move_type"):
            raise UserError(
                self.env._(
                    "Posted ledger lines cannot be deleted; post a reversing line or an adjustment instead."
                )
            )

    def _net_points(self):
        """Points of this line still in effect: its own plus what its reversals (net) moved back."""
        self.ensure_one()
        return self.points + sum(reversal._net_points() for reversal in self.reversal_line_ids)

    def action_open_source(self):
        self.ensure_one()
        record = self.invoice_id or self.sale_order_id
        if not record:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }
