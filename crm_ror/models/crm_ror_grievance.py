from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..engine import campaign as engine


class CrmRorGrievance(models.Model):
    """A customer complaint: what, about which order, its status, when opened and resolved.

    Our own small model rather than OCA's ``crm_claim`` (see readme/DESCRIPTION.md): the scorecard
    figures go through ``_crm_ror_grievance_figures``, the one interface a claim backend has to provide.
    """

    _name = "crm.ror.grievance"
    _description = "Customer Grievance"
    _inherit = ["mail.thread"]
    _order = "date_opened desc, id desc"

    name = fields.Char("Complaint", required=True, tracking=True)
    description = fields.Text()
    category = fields.Selection(
        [
            ("product", "Product"),
            ("delivery", "Delivery"),
            ("invoice", "Invoicing"),
            ("service", "Service"),
            ("warranty", "Warranty"),
            ("other", "Other"),
        ],
        required=True,
        default="other",
    )
    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, tracking=True)
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True, string="Customer company"
    )
    user_id = fields.Many2one(
        "res.users", "Responsible", index=True, default=lambda self: self.env.user, tracking=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    order_id = fields.Many2one(
        "sale.order", "Order", domain="[('partner_id.commercial_partner_id', '=', commercial_partner_id)]"
    )
    state = fields.Selection(
        [
            ("open", "Open"),
            ("in_progress", "In progress"),
            ("resolved", "Resolved"),
            ("rejected", "Rejected"),
        ],
        default="open",
        required=True,
        tracking=True,
    )
    date_opened = fields.Datetime("Opened", required=True, default=fields.Datetime.now)
    date_resolved = fields.Datetime("Resolved", tracking=True, readonly=True)
    resolution_hours = fields.Float(
        "Resolution time (hours)", compute="_compute_resolution_hours", store=True, aggregator="avg"
    )

    @api.depends("date_opened", "date_resolved")
    def _compute_resolution_hours(self):
        for grievance in self:
            if grievance.date_opened and grievance.date_resolved:
                grievance.resolution_hours = (
                    grievance.date_resolved - grievance.date_opened
                ).total_seconds() / 3600
            else:
                grievance.resolution_hours = 0.0

    @api.constrains("date_opened", "date_resolved")
    def _check_dates(self):
        for grievance in self:
            if grievance.date_resolved and grievance.date_resolved < grievance.date_opened:
                raise ValidationError(
                    self.env._(
                        "Grievance %(name)s: it cannot be resolved before it was opened; correct the Resolved date.",
                        name=grievance.name,
                    )
                )

    def _crm_ror_refuse_date_resolved(self, vals):
        """The resolution date is the server's (the median-resolution KPI trusts it)."""
        if "date_resolved" in vals and not self.env.su:
            raise AccessError(
                self.env._(
                    "Grievance %(name)s: the Resolved date is set when the grievance is resolved and cannot "
                    "be written; change its status instead.",
                    name=self[:1].name or vals.get("name") or "?",
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._crm_ror_refuse_date_resolved(vals)
            if vals.get("state") in ("resolved", "rejected") and "date_resolved" not in vals:
                vals["date_resolved"] = fields.Datetime.now()
        return super().create(vals_list)

    def write(self, vals):
        self._crm_ror_refuse_date_resolved(vals)
        # Resolving stamps the date once; reopening clears it.
        if vals.get("state") in ("resolved", "rejected") and "date_resolved" not in vals:
            vals["date_resolved"] = fields.Datetime.now()
        elif vals.get("state") in ("open", "in_progress") and "date_resolved" not in vals:
            vals["date_resolved"] = False
        return super().write(vals)

    def action_resolve(self):
        self.write({"state": "resolved"})

    @api.model
    def _crm_ror_grievance_figures(self, company, datetime_from, datetime_to, user_ids=None):
        """The grievance interface: {"opened": n, "customers": n, "median_hours": h or None} for the
        company's complaints opened in [datetime_from, datetime_to[ and resolved ones there."""
        domain = [("company_id", "=", company.id)]
        if user_ids is not None:
            domain.append(("commercial_partner_id.user_id", "in", user_ids))
        opened = self._read_group(
            [*domain, ("date_opened", ">=", datetime_from), ("date_opened", "<", datetime_to)],
            [],
            ["__count", "commercial_partner_id:count_distinct"],
        )[0]
        resolved = self.search_fetch(
            [
                *domain,
                ("state", "=", "resolved"),
                ("date_resolved", ">=", datetime_from),
                ("date_resolved", "<", datetime_to),
            ],
            ["resolution_hours"],
        )
        return {
            "opened": opened[0],
            "customers": opened[1],
            "median_hours": engine.median(resolved.mapped("resolution_hours")),
        }
