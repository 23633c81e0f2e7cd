from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL


class ResPartner(models.Model):
    # Kept apart from the value part's class while both are built in parallel; merge at integration.
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

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
