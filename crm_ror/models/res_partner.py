from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL


def _profile_figure(field_class, name, string, **kwargs):
    """A figure of the partner's value profile in the current company, read with the user's rights.

    Not as superuser (``compute_sudo=False``) and cached per user (``uid``): the profile's record rules
    decide, so a salesperson never reads the figures of another salesperson's customer, not even
    from a value the superuser computed earlier in the same transaction.
    """
    return field_class(
        related=f"ror_profile_id.{name}",
        string=string,
        groups="crm_ror.group_crm_ror_user",
        depends_context=("company", "uid"),
        compute_sudo=False,
        **kwargs,
    )


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
    ror_currency_id = _profile_figure(fields.Many2one, "currency_id", "Profile currency")
    ror_segment_id = _profile_figure(fields.Many2one, "segment_id", "Value segment")
    ror_customer_state = _profile_figure(fields.Selection, "customer_state", "Customer state")
    ror_rfm_code = _profile_figure(fields.Char, "rfm_code", "RFM")
    ror_first_purchase_date = _profile_figure(fields.Date, "first_purchase_date", "First purchase")
    ror_last_purchase_date = _profile_figure(fields.Date, "last_purchase_date", "Last purchase")
    ror_customer_since = _profile_figure(fields.Date, "customer_since", "Customer since")
    ror_days_since_last_purchase = _profile_figure(
        fields.Integer, "days_since_last_purchase", "Days since last purchase"
    )
    ror_purchase_count = _profile_figure(fields.Integer, "purchase_count", "Purchases")
    ror_revenue = _profile_figure(fields.Monetary, "revenue", "Revenue", currency_field="ror_currency_id")
    ror_gross_margin = _profile_figure(
        fields.Monetary, "gross_margin", "Gross margin", currency_field="ror_currency_id"
    )
    ror_average_order_value = _profile_figure(
        fields.Monetary, "average_order_value", "Average order value", currency_field="ror_currency_id"
    )
    ror_avg_days_between = _profile_figure(fields.Float, "avg_days_between", "Average days between purchases")
    ror_median_days_between = _profile_figure(
        fields.Float, "median_days_between", "Median days between purchases"
    )
    ror_clv_historic = _profile_figure(
        fields.Monetary, "clv_historic", "Historic CLV", currency_field="ror_currency_id"
    )
    ror_clv_predicted = _profile_figure(
        fields.Monetary, "clv_predicted", "Predicted CLV", currency_field="ror_currency_id"
    )
    ror_clv_status = _profile_figure(fields.Selection, "clv_status", "Predictive CLV")
    ror_clv_message = _profile_figure(fields.Char, "clv_message", "CLV note")
    ror_clv_probability_alive = _profile_figure(
        fields.Float, "clv_probability_alive", "Probability alive (%)"
    )
    ror_cost_to_serve = _profile_figure(
        fields.Monetary, "cost_to_serve", "Cost to serve", currency_field="ror_currency_id"
    )
    ror_ror = _profile_figure(fields.Float, "ror", "Return on relationship")
    ror_has_ror = _profile_figure(fields.Boolean, "has_ror", "ROR defined")
    ror_ror_12m = _profile_figure(fields.Float, "ror_12m", "ROR (12 months)")
    ror_has_ror_12m = _profile_figure(fields.Boolean, "has_ror_12m", "ROR (12 months) defined")
    ror_trend = _profile_figure(fields.Selection, "ror_trend", "ROR trend")
    ror_computed_at = _profile_figure(fields.Datetime, "computed_at", "Computed on")
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
    # groups: a read() of every partner field by a user outside crm_ror must not hit their ACLs
    crm_ror_key_date_ids = fields.One2many(
        "crm.ror.key.date", "partner_id", string="Key Dates", groups="crm_ror.group_crm_ror_user"
    )
    ror_suggestion_ids = fields.Many2many(
        "crm.ror.suggestion",
        compute="_compute_ror_suggestion_ids",
        string="Open suggestions",
        groups="crm_ror.group_crm_ror_user",
    )

    @api.depends_context("company", "uid")
    @api.depends("commercial_partner_id")
    def _compute_ror_profile_id(self):
        # Searched with the user's rights: the profile's record rules hide other salespeople's customers.
        profiles = self.env["crm.ror.customer.profile"].search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ]
        )
        by_partner = {profile.partner_id.id: profile for profile in profiles}
        for partner in self:
            partner.ror_profile_id = by_partner.get(partner.commercial_partner_id.id, False)

    @api.depends_context("company", "uid")
    def _compute_ror_suggestion_ids(self):
        # The current company's, as the rest of the Relationship tab (the record rules let through
        # those of every allowed company); searched with the user's rights, as the profile.
        suggestions = self.env["crm.ror.suggestion"].search(
            [
                ("partner_id", "in", self._origin.ids),
                ("state", "=", "new"),
                ("company_id", "=", self.env.company.id),
            ]
        )
        by_partner = suggestions.grouped("partner_id")
        for partner in self:
            partner.ror_suggestion_ids = by_partner.get(partner._origin, suggestions.browse())

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
        "crm_ror_last_contact_date",
        "crm_ror_contact_frequency",
        "crm_ror_do_not_contact",
        "commercial_partner_id.crm_ror_do_not_contact",
        "create_date",
    )
    def _compute_crm_ror_next_contact_date(self):
        # The flags of the contact and of its company; a blacklisted email, which can change without
        # touching the partner, is left out by the "Contact Due" filter (crm_ror_no_outreach).
        for partner in self:
            blocked = partner.crm_ror_do_not_contact or partner.commercial_partner_id.crm_ror_do_not_contact
            if partner.crm_ror_contact_frequency > 0 and not blocked:
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
        # sudo: a done activity records the contact date even on partners the user may not edit.
        partners.sudo().write({"crm_ror_last_contact_date": day or fields.Date.context_today(self)})
