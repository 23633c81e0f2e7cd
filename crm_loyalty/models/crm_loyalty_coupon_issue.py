from odoo import fields, models
from odoo.tools import SQL

from .loyalty_history import CRON_BATCH

# coupon mails rendered per batch of the mail step (one commit each in a scheduled run)
MAIL_BATCH = CRON_BATCH


class CrmLoyaltyCouponIssue(models.Model):
    _name = "crm.loyalty.coupon.issue"
    _description = "Coupon Issued by a Campaign"
    _order = "period_date desc, id desc"
    _rec_name = "card_id"

    campaign_id = fields.Many2one(
        "crm.loyalty.coupon.campaign", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", required=True, index=True, ondelete="cascade")
    card_id = fields.Many2one("loyalty.card", string="Coupon", required=True, ondelete="cascade")
    product_ids = fields.Many2many("product.product", string="Products")
    period_date = fields.Date(string="Period", required=True, index=True)
    mail_pending = fields.Boolean(
        readonly=True, index="btree_not_null", copy=False, help="Issued, its mail not sent yet."
    )
    is_used = fields.Boolean(compute="_compute_usage", string="Used")
    order_ids = fields.Many2many("sale.order", compute="_compute_usage", string="Orders")
    revenue = fields.Monetary(
        compute="_compute_usage",
        currency_field="currency_id",
        help="Untaxed amount, in company currency, of the confirmed orders that used the coupon.",
    )

    _sql_constraints = [
        (
            "one_per_period",
            "UNIQUE (campaign_id, partner_id, period_date)",
            "A campaign issues at most one coupon per member and period.",
        ),
    ]

    def _compute_usage(self):
        usage = self._usage()
        for issue in self:
            row = usage[issue.id]
            issue.order_ids = [fields.Command.set(row["order_ids"])]
            issue.is_used = bool(row["order_ids"])
            issue.revenue = row["revenue"]

    def _usage(self):
        """``{issue id: {"order_ids": [...], "revenue": amount}}``: the confirmed orders with a
        reward line of the issued coupon, and their untaxed amount in company currency."""
        result = {issue_id: {"order_ids": [], "revenue": 0.0} for issue_id in self.ids}
        if not self.ids:
            return result
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT issue.id, so.id, so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1)
                  FROM crm_loyalty_coupon_issue issue
                  JOIN sale_order so ON so.id IN (
                           SELECT line.order_id FROM sale_order_line line
                            WHERE line.coupon_id = issue.card_id)
                 WHERE issue.id = ANY(%s) AND so.state = 'sale'
                """,
                self.ids,
            )
        )
        for issue_id, order_id, amount in self.env.cr.fetchall():
            result[issue_id]["order_ids"].append(order_id)
            result[issue_id]["revenue"] += amount or 0.0
        return result

    def _send_pending_mails(self, commit=False):
        """Mail these issued coupons whose mail is still pending, in batches of ``MAIL_BATCH``,
        each its own commit in a scheduled run: a crash re-sends no mail already sent, and the
        next run goes on with the rest. Consent is read again at sending: a member who opted out
        since the issue gets no mail."""
        pending = self.filtered("mail_pending").sorted("id")
        for start in range(0, len(pending), MAIL_BATCH):
            batch = pending[start : start + MAIL_BATCH]
            contactable = batch.partner_id._crm_loyalty_contactable()
            for campaign, issues in batch.grouped("campaign_id").items():
                to_mail = issues.filtered_domain([("partner_id", "in", contactable.ids)])
                if campaign.mail_template_id and to_mail:
                    campaign.mail_template_id.send_mail_batch(
                        to_mail.card_id.ids, email_layout_xmlid="mail.mail_notification_light"
                    )
            # sudo: the mail mark is the mail step's own (users never edit an issue)
            batch.sudo().mail_pending = False
            self.env["loyalty.history"]._cron_commit_batch(
                start + len(batch), len(pending) - start - len(batch), commit=commit
            )
