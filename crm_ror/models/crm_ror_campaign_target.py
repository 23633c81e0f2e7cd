from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmRorCampaignTarget(models.Model):
    """One customer targeted by a campaign: when, how often (touches), whether held out as control,
    and what came back within the campaign's response window.

    The response figures (``responded``, ``response_date``, ``revenue``, ``margin``) are written set-wise
    by ``utm.campaign._crm_ror_refresh_responses``; the segment is the customer's value segment on the day
    it was targeted, so that response by segment stays what it was at the time.
    """

    _name = "crm.ror.campaign.target"
    _description = "Campaign Target"
    _order = "campaign_id, expected_value desc, id"
    _rec_name = "partner_id"

    campaign_id = fields.Many2one("utm.campaign", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(
        related="campaign_id.company_id", store=True, index=True, string="Company", readonly=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        "Customer",
        required=True,
        index=True,
        ondelete="cascade",
        domain=[("is_company", "=", True)],
    )
    user_id = fields.Many2one(related="partner_id.user_id", store=True, index=True, string="Salesperson")
    segment_id = fields.Many2one(
        "crm.ror.segment",
        "Segment",
        index=True,
        ondelete="set null",
        help="The customer's value segment when targeted.",
    )
    channel = fields.Selection(related="campaign_id.crm_ror_channel", store=True, string="Channel")
    date_targeted = fields.Date("Targeted on", required=True, default=fields.Date.context_today)
    touches = fields.Integer(default=1, help="Times the customer was contacted by this campaign.")
    is_control = fields.Boolean(
        "Control group",
        readonly=True,
        help="Held out at random: never contacted, measures the response anyway.",
    )
    control_sends = fields.Integer(
        "Mailed anyway",
        readonly=True,
        help="Sends of the campaign's mailings that reached this control customer all the same: it is "
        "not an untouched control any more, which biases the control group's response.",
    )
    expected_value = fields.Monetary(
        readonly=True,
        help="Expected margin of the contact minus its cost, when the target selection chose it.",
    )
    cost = fields.Monetary("Contact cost", compute="_compute_cost", store=True)

    # Written by the response refresh.
    responded = fields.Boolean(readonly=True)
    response_rate = fields.Float(
        "Response rate (%)",
        readonly=True,
        aggregator="avg",
        help="100 for a responder, 0 otherwise: averages to the rate.",
    )
    response_date = fields.Date(readonly=True)
    revenue = fields.Monetary(readonly=True, help="Untaxed, net of credit notes, within the response window.")
    margin = fields.Monetary(
        readonly=True, help="Revenue minus the products' cost, within the response window."
    )

    _sql_constraints = [
        (
            "campaign_partner_uniq",
            "unique(campaign_id, partner_id)",
            "A customer is targeted once per campaign.",
        ),
        ("touches_positive", "CHECK(touches >= 0)", "Touches cannot be negative."),
    ]

    @api.depends("touches", "is_control", "campaign_id.crm_ror_medium_id", "company_id")
    def _compute_cost(self):
        for target in self:
            medium = target.campaign_id.crm_ror_medium_id.with_company(target.company_id)
            target.cost = 0.0 if target.is_control else target.touches * medium.ror_contact_cost

    @api.model_create_multi
    def create(self, vals_list):
        # A campaign targets customers: contacts are folded into their commercial entity.
        partners = self.env["res.partner"].browse(
            [vals["partner_id"] for vals in vals_list if vals.get("partner_id")]
        )
        commercial = {partner.id: partner.commercial_partner_id.id for partner in partners}
        # Do Not Contact and the blacklist hold for targets added by hand too (control targets are
        # never contacted, so they may stay).
        contacted = partners.browse(
            [
                vals["partner_id"]
                for vals in vals_list
                if vals.get("partner_id") and not vals.get("is_control")
            ]
        )
        blocked = self.env["res.partner"].search(
            [
                ("id", "in", (contacted | contacted.commercial_partner_id).ids),
                ("crm_ror_no_outreach", "=", True),
            ],
            limit=1,
        )
        if blocked:
            raise UserError(
                self.env._(
                    "%(customer)s is marked Do Not Contact (itself or its company) or its email is blacklisted: "
                    "remove it from the targets.",
                    customer=blocked.display_name,
                )
            )
        for vals in vals_list:
            if vals.get("partner_id"):
                vals["partner_id"] = commercial[vals["partner_id"]]
        # Without a segment given, the customer's value segment in the campaign's company today.
        todo = [vals for vals in vals_list if "segment_id" not in vals and vals.get("partner_id")]
        if todo:
            campaigns = self.env["utm.campaign"].browse({vals["campaign_id"] for vals in todo})
            profiles = self.env["crm.ror.customer.profile"].search(
                [
                    ("partner_id", "in", [vals["partner_id"] for vals in todo]),
                    ("company_id", "in", campaigns.company_id.ids),
                ]
            )
            segment = {(p.partner_id.id, p.company_id.id): p.segment_id.id for p in profiles}
            company = {campaign.id: campaign.company_id.id for campaign in campaigns}
            for vals in todo:
                vals["segment_id"] = segment.get((vals["partner_id"], company[vals["campaign_id"]]), False)
        return super().create(vals_list)

    def action_add_touch(self):
        """Record one more contact of these customers (control customers are never contacted)."""
        contacted = self.filtered(lambda t: not t.is_control)
        # One write per distinct touch count, not one per target.
        groups = contacted.grouped("touches")  # grouped before any write changes the counts
        for touches, targets in groups.items():
            targets.write({"touches": touches + 1})
