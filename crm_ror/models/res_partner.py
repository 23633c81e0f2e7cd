from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL


class ResPartner(models.Model):
    _inherit = "res.partner"

    ror_profile_ids = fields.One2many(
        "crm.ror.customer.profile", "partner_id", string="Value profiles", groups="crm_ror.group_crm_ror_user"
    )
    ror_profile_id = fields.Many2one(
        "crm.ror.customer.profile",
        string="Value profile",
        compute="_compute_ror_profile_id",
        search="_search_ror_profile_id",
        groups="crm_ror.group_crm_ror_user",
        help="The commercial partner's profile in the current company.",
    )
    ror_currency_id = fields.Many2one(
        related="ror_profile_id.currency_id",
        string="Profile currency",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_segment_id = fields.Many2one(
        related="ror_profile_id.segment_id",
        string="Value segment",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_customer_state = fields.Selection(
        related="ror_profile_id.customer_state",
        string="Customer state",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_rfm_code = fields.Char(
        related="ror_profile_id.rfm_code",
        string="RFM",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_first_purchase_date = fields.Date(
        related="ror_profile_id.first_purchase_date",
        string="First purchase",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_last_purchase_date = fields.Date(
        related="ror_profile_id.last_purchase_date",
        string="Last purchase",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_customer_since = fields.Date(
        related="ror_profile_id.customer_since",
        string="Customer since",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_days_since_last_purchase = fields.Integer(
        related="ror_profile_id.days_since_last_purchase",
        string="Days since last purchase",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_purchase_count = fields.Integer(
        related="ror_profile_id.purchase_count",
        string="Purchases",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_revenue = fields.Monetary(
        related="ror_profile_id.revenue",
        string="Revenue",
        currency_field="ror_currency_id",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_gross_margin = fields.Monetary(
        related="ror_profile_id.gross_margin",
        string="Gross margin",
        currency_field="ror_currency_id",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_average_order_value = fields.Monetary(
        related="ror_profile_id.average_order_value",
        string="Average order value",
        currency_field="ror_currency_id",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_avg_days_between = fields.Float(
        related="ror_profile_id.avg_days_between",
        string="Average days between purchases",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_median_days_between = fields.Float(
        related="ror_profile_id.median_days_between",
        string="Median days between purchases",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_clv_historic = fields.Monetary(
        related="ror_profile_id.clv_historic",
        string="Historic CLV",
        currency_field="ror_currency_id",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_clv_predicted = fields.Monetary(
        related="ror_profile_id.clv_predicted",
        string="Predicted CLV",
        currency_field="ror_currency_id",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_clv_status = fields.Selection(
        related="ror_profile_id.clv_status",
        string="Predictive CLV",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_clv_message = fields.Char(
        related="ror_profile_id.clv_message",
        string="CLV note",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_clv_probability_alive = fields.Float(
        related="ror_profile_id.clv_probability_alive",
        string="Probability alive (%)",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_cost_to_serve = fields.Monetary(
        related="ror_profile_id.cost_to_serve",
        string="Cost to serve",
        currency_field="ror_currency_id",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_ror = fields.Float(
        related="ror_profile_id.ror",
        string="Return on relationship",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_has_ror = fields.Boolean(
        related="ror_profile_id.has_ror",
        string="ROR defined",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_ror_12m = fields.Float(
        related="ror_profile_id.ror_12m",
        string="ROR (12 months)",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_has_ror_12m = fields.Boolean(
        related="ror_profile_id.has_ror_12m",
        string="ROR (12 months) defined",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_trend = fields.Selection(
        related="ror_profile_id.ror_trend",
        string="ROR trend",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    ror_computed_at = fields.Datetime(
        related="ror_profile_id.computed_at",
        string="Computed on",
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company",),
    )
    crm_ror_do_not_contact = fields.Boolean(
        string="Do Not Contact",
        tracking=True,
        help="No reminder, suggestion or other outreach of Return on Relationship for this contact. "
        "A blacklisted email address has the same effect.",
    )
    crm_ror_no_outreach = fields.Boolean(
        string="Outreach Blocked",
        compute="_compute_crm_ror_no_outreach",
        search="_search_crm_ror_no_outreach",
        help="Set when the contact or its company is marked Do Not Contact, or its email is blacklisted.",
    )
    crm_ror_preferred_channel = fields.Selection(
        [
            ("email", "Email"),
            ("phone", "Phone"),
            ("meeting", "Meeting"),
            ("sms", "SMS"),
            ("letter", "Letter"),
        ],
        string="Preferred Channel",
    )
    crm_ror_contact_frequency = fields.Integer(
        string="Contact Every (days)",
        help="How often the salesperson should get in touch; 0 means no rhythm is set.",
    )
    crm_ror_last_contact_date = fields.Date(
        string="Last Contact",
        help="Set when an activity on the contact, its opportunities or its orders is marked done; editable.",
    )
    crm_ror_next_contact_date = fields.Date(
        string="Next Contact Due",
        compute="_compute_crm_ror_next_contact_date",
        store=True,
    )
    crm_ror_key_date_ids = fields.One2many("crm.ror.key.date", "partner_id", string="Key Dates")

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_ror_profile_id(self):
        profiles = self.env["crm.ror.customer.profile"].search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ]
        )
        by_partner = {profile.partner_id.id: profile for profile in profiles}
        for partner in self:
            partner.ror_profile_id = by_partner.get(partner.commercial_partner_id.id, False)

    def _search_ror_profile_id(self, operator, value):
        return [("commercial_partner_id.ror_profile_ids", operator, value)]

    def action_open_ror_profile(self):
        self.ensure_one()
        profile = self.ror_profile_id
        if not profile:
            action = self.env["ir.actions.act_window"]._for_xml_id("crm_ror.crm_ror_customer_profile_action")
            action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
            return action
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.ror.customer.profile",
            "res_id": profile.id,
            "view_mode": "form",
            "name": self.env._("Value profile"),
        }

    @api.depends("crm_ror_do_not_contact", "commercial_partner_id.crm_ror_do_not_contact", "email_normalized")
    def _compute_crm_ror_no_outreach(self):
        blocked = self.filtered(
            lambda p: p.crm_ror_do_not_contact or p.commercial_partner_id.crm_ror_do_not_contact
        )
        blocked |= (self - blocked).filtered("is_blacklisted")
        for partner in self:
            partner.crm_ror_no_outreach = partner in blocked

    def _search_crm_ror_no_outreach(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        query = SQL(
            "(SELECT p.id FROM res_partner p WHERE %s)",
            self._crm_ror_outreach_blocked_sql(SQL("p")),
        )
        blocked = "in" if (operator == "=") == value else "not in"
        return [("id", blocked, query)]

    @api.model
    def _crm_ror_outreach_blocked_sql(self, alias):
        """SQL condition true when the partner row ``alias`` must not be contacted.

        Used set-wise by every outreach of the addon (reminders, suggestions): the partner's own
        flag, its commercial entity's flag, or its email on the active blacklist. The sub-queries'
        aliases are unusual on purpose, so they never shadow the caller's ``alias``.
        """
        self.env["res.partner"].flush_model(
            ["crm_ror_do_not_contact", "email_normalized", "commercial_partner_id"]
        )
        self.env["mail.blacklist"].flush_model(["email", "active"])
        return SQL(
            """(
                COALESCE(%(p)s.crm_ror_do_not_contact, FALSE)
                OR EXISTS (SELECT 1 FROM res_partner crm_ror_dnc_cp
                            WHERE crm_ror_dnc_cp.id = %(p)s.commercial_partner_id
                              AND crm_ror_dnc_cp.crm_ror_do_not_contact)
                OR EXISTS (SELECT 1 FROM mail_blacklist crm_ror_dnc_bl
                            WHERE crm_ror_dnc_bl.active AND crm_ror_dnc_bl.email = %(p)s.email_normalized)
            )""",
            p=alias,
        )

    @api.depends(
        "crm_ror_last_contact_date", "crm_ror_contact_frequency", "crm_ror_do_not_contact", "create_date"
    )
    def _compute_crm_ror_next_contact_date(self):
        for partner in self:
            if partner.crm_ror_contact_frequency > 0 and not partner.crm_ror_do_not_contact:
                # Never contacted: the rhythm starts when the contact was created.
                start = (
                    partner.crm_ror_last_contact_date or (partner.create_date or fields.Datetime.now()).date()
                )
                partner.crm_ror_next_contact_date = start + timedelta(days=partner.crm_ror_contact_frequency)
            else:
                partner.crm_ror_next_contact_date = False

    def _crm_ror_mark_contacted(self, day=None):
        """Record a contact with these partners' commercial entities (one batch write)."""
        partners = self.commercial_partner_id | self
        partners.sudo().write({"crm_ror_last_contact_date": day or fields.Date.context_today(self)})
