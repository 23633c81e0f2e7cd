from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine import campaign as engine


class CrmRorCampaignTargetWizard(models.TransientModel):
    """Choose a campaign's targets by the expected value of contacting them.

    Expected value = P(response | segment, channel) x expected order margin - touches x cost per contact.
    P is the segment's past response rate on the channel, shrunk toward the channel's overall rate
    (``engine.campaign.shrunk_rate``) so that a thin history does not decide alone; without any history of
    the channel the assumed rate stands in. The expected order margin is the customer's expected order
    value (lifetime-value model, else its average order) times its margin rate. Do-not-contact flags (the
    customer's own, its company's) and the email blacklist always remove a customer, and the wizard
    counts how many each rule removed.
    """

    _name = "crm.ror.campaign.target.wizard"
    _description = "Campaign Target Selection"

    campaign_id = fields.Many2one("utm.campaign", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="campaign_id.company_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    segment_ids = fields.Many2many("crm.ror.segment", string="Segments")
    partner_ids = fields.Many2many(
        "res.partner", string="Customers", help="Customers considered besides the segments."
    )
    mode = fields.Selection(
        [("positive", "Positive expected value"), ("top", "Top N"), ("budget", "Within a budget")],
        default="positive",
        required=True,
    )
    top_n = fields.Integer("N", default=100)
    budget = fields.Monetary()
    touches = fields.Integer(default=1, required=True)
    assumed_rate = fields.Float(
        "Assumed response rate (%)", default=2.0, help="Used as the channel's rate while it has no history."
    )
    # mass_mailing is optional: its models are looked up at runtime, never depended on.
    mailing_available = fields.Boolean(compute="_compute_mailing_available")
    write_mailing_list = fields.Boolean(
        "Write a mailing list",
        help="Also write the contacted targets as a new mailing list (the emails of the customers, "
        "or of their first contact that may be emailed), to send the campaign's mailing to.",
    )

    # Result
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
    candidate_count = fields.Integer("Candidates", readonly=True)
    removed_dnc_count = fields.Integer("Removed: do not contact", readonly=True)
    removed_company_dnc_count = fields.Integer("Removed: company does not want contact", readonly=True)
    removed_blacklist_count = fields.Integer("Removed: email blacklisted", readonly=True)
    removed_targeted_count = fields.Integer("Removed: already targeted", readonly=True)
    selected_count = fields.Integer("Targeted", readonly=True)
    expected_total = fields.Monetary("Expected value of the list", readonly=True)
    mailing_list_ref = fields.Reference(
        selection="_selection_mailing_list", string="Mailing list", readonly=True
    )
    mailing_contact_count = fields.Integer("Contacts on the mailing list", readonly=True)
    removed_no_email_count = fields.Integer("Not on the mailing list: no email", readonly=True)

    @api.model
    def _mailing_installed(self):
        return "mailing.list" in self.env

    def _compute_mailing_available(self):
        self.mailing_available = self._mailing_installed()

    @api.model
    def _selection_mailing_list(self):
        return [("mailing.list", self.env._("Mailing List"))] if self._mailing_installed() else []

    def _check_input(self, contact_cost):
        self.ensure_one()
        if not self.campaign_id.crm_ror_medium_id:
            raise UserError(
                self.env._(
                    "Campaign %(campaign)s has no contact medium: set its Contact medium (it gives the channel "
                    "and the cost per contact).",
                    campaign=self.campaign_id.title,
                )
            )
        if not self.segment_ids and not self.partner_ids:
            raise UserError(self.env._("Segments: choose at least one segment or some customers to rank."))
        if self.touches < 1:
            raise UserError(self.env._("Touches: a contacted customer gets at least 1 touch."))
        if self.mode == "top" and self.top_n < 1:
            raise UserError(self.env._("N: keep at least 1 customer, or choose another rule."))
        if self.mode == "budget" and self.budget < contact_cost * self.touches:
            raise UserError(
                self.env._(
                    "Budget: %(budget)s does not pay for one contact (%(cost)s per customer with %(touches)s "
                    "touches); raise the budget or lower the touches.",
                    budget=self.budget,
                    cost=contact_cost * self.touches,
                    touches=self.touches,
                )
            )
        if self.write_mailing_list and not self._mailing_installed():
            raise UserError(
                self.env._(
                    "Write a mailing list: the Email Marketing app (mass_mailing) is not installed; install "
                    "it, or untick the option to keep the targets on the campaign only."
                )
            )
        if self.write_mailing_list and not all(
            self.env[model].has_access("create") for model in ("mailing.list", "mailing.contact")
        ):
            raise UserError(
                self.env._(
                    "Write a mailing list: you may not create mailing lists and contacts; ask an "
                    "administrator for the group %(group)s, or untick the option.",
                    group=self.env.ref("mass_mailing.group_mass_mailing_user").full_name,
                )
            )
        if not 0 <= self.assumed_rate <= 100:
            raise UserError(self.env._("Assumed response rate: a rate between 0 and 100 %%."))

    def _candidates(self):
        """Commercial customer ids of the segments (in the campaign's company) and of the list."""
        company = self.company_id
        profiles = self.env["crm.ror.customer.profile"].search(
            [("company_id", "=", company.id), ("segment_id", "in", self.segment_ids.ids)]
        )
        for segment in self.segment_ids:
            if segment not in profiles.segment_id:
                raise UserError(
                    self.env._(
                        "Segment %(segment)s has no customer in %(company)s: remove it, or compute the value "
                        "profiles first.",
                        segment=segment.name,
                        company=company.name,
                    )
                )
        return list(dict.fromkeys(profiles.partner_id.ids + self.partner_ids.ids))

    @api.model
    def _blocked(self, partner_ids):
        """{partner id: rule} for the blocked partners: 'dnc', 'company_dnc' or 'blacklist' (first match)."""
        if not partner_ids:
            return {}
        self.env["res.partner"].flush_model(
            ["crm_ror_do_not_contact", "email_normalized", "commercial_partner_id"]
        )
        self.env["mail.blacklist"].flush_model(["email", "active"])
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id,
                       CASE WHEN p.crm_ror_do_not_contact THEN 'dnc'
                            WHEN cp.crm_ror_do_not_contact THEN 'company_dnc'
                            ELSE 'blacklist' END
                  FROM res_partner p
                  JOIN res_partner cp ON cp.id = p.commercial_partner_id
                 WHERE p.id = ANY(%(ids)s)
                   AND (p.crm_ror_do_not_contact OR cp.crm_ror_do_not_contact
                        OR EXISTS (SELECT 1 FROM mail_blacklist bl
                                    WHERE bl.active AND bl.email IN (p.email_normalized, cp.email_normalized)))
                """,
                ids=partner_ids,
            )
        )
        return dict(self.env.cr.fetchall())

    def _probabilities(self, segment_ids):
        """{segment id: P(response)} on the campaign's channel, shrunk toward the channel's rate."""
        campaign = self.campaign_id
        history = self.env["utm.campaign"]._crm_ror_response_history(
            self.company_id, campaign.crm_ror_channel, exclude_campaigns=campaign
        )
        contacts = sum(cell[0] for cell in history.values())
        responders = sum(cell[1] for cell in history.values())
        prior = responders / contacts if contacts else self.assumed_rate / 100.0
        probabilities = {}
        for segment_id in set(segment_ids):
            seg_contacts, seg_responders = history.get(segment_id, (0, 0))[:2]
            probabilities[segment_id] = engine.shrunk_rate(seg_responders, seg_contacts, prior)
        return probabilities

    def action_select(self):
        self.ensure_one()
        campaign = self.campaign_id
        campaign._crm_ror_check_company()
        campaign.check_access("write")
        contact_cost = campaign.crm_ror_medium_id.with_company(self.company_id).ror_contact_cost
        self._check_input(contact_cost)
        candidates = self._candidates()
        blocked = self._blocked(candidates)
        rules = list(blocked.values())
        allowed = self.env["res.partner"].browse([pid for pid in candidates if pid not in blocked])
        # Contacts of the list stand for their commercial entity.
        commercial = list(dict.fromkeys(allowed.commercial_partner_id.ids))
        already = set(campaign.crm_ror_target_ids.partner_id.ids)
        fresh = [pid for pid in commercial if pid not in already]
        profiles = self.env["crm.ror.customer.profile"].search(
            [("company_id", "=", self.company_id.id), ("partner_id", "in", fresh)]
        )
        by_partner = {profile.partner_id.id: profile for profile in profiles}
        probabilities = self._probabilities([profile.segment_id.id for profile in profiles] + [False])
        values, segments = {}, {}
        for pid in fresh:
            profile = by_partner.get(pid)
            segment_id = profile.segment_id.id if profile else False
            order_value = (profile.clv_expected_spend or profile.average_order_value) if profile else 0.0
            order_margin = order_value * (profile.margin_rate if profile else 0.0) / 100.0
            values[pid] = engine.expected_value(
                probabilities[segment_id], order_margin, contact_cost, self.touches
            )
            segments[pid] = segment_id
        kept = engine.select(
            values.items(),
            self.mode,
            contact_cost,
            touches=self.touches,
            top_n=self.top_n,
            budget=self.budget,
        )
        kept_ids = [pid for pid, _value in kept]
        targets = campaign._crm_ror_add_targets(
            self.env["res.partner"].browse(kept_ids), segments=segments, expected_values=values
        )
        contacted = targets.filtered(lambda t: not t.is_control)
        contacted.write({"touches": self.touches})
        mailing_values = self._write_mailing_list(contacted) if self.write_mailing_list else {}
        self.write(
            {
                **mailing_values,
                "state": "done",
                "candidate_count": len(candidates),
                "removed_dnc_count": rules.count("dnc"),
                "removed_company_dnc_count": rules.count("company_dnc"),
                "removed_blacklist_count": rules.count("blacklist"),
                "removed_targeted_count": len(commercial) - len(fresh),
                "selected_count": len(targets),
                "expected_total": sum(value for _pid, value in kept),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Target selection"),
        }

    def _write_mailing_list(self, targets):
        """A new mailing list of the contacted ``targets``: values of the wizard's mailing figures.

        Each customer is reached at its own email, else at that of its first contact of the campaign's
        company (or shared) that may be emailed (not Do Not Contact, not blacklisted); customers with neither are counted, not listed.
        Each customer has a contact of its own, also when customers share an address (see
        ``_mailing_contacts``).
        """
        self.env["res.partner"].flush_model(["email_normalized", "commercial_partner_id", "active", "name"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT cp.id, cp.name,
                       COALESCE(cp.email_normalized, (
                           SELECT c.email_normalized FROM res_partner c
                            WHERE c.commercial_partner_id = cp.id AND c.active AND c.email_normalized IS NOT NULL
                              AND (c.company_id IS NULL OR c.company_id = %(company)s)
                              AND NOT %(blocked)s
                            ORDER BY c.id LIMIT 1))
                  FROM res_partner cp
                 WHERE cp.id = ANY(%(ids)s)
                """,
                company=self.company_id.id,
                blocked=self.env["res.partner"]._crm_ror_outreach_blocked_sql(SQL("c")),
                ids=targets.partner_id.ids,
            )
        )
        reached = [(pid, name, email) for pid, name, email in rows if email]
        contacts = self._mailing_contacts(reached)
        mailing_list = self.env["mailing.list"].create(
            {
                "name": self.env._(
                    "%(campaign)s: targets of %(date)s",
                    campaign=self.campaign_id.title,
                    date=fields.Date.context_today(self),
                ),
                "contact_ids": [Command.set(contacts.ids)],
            }
        )
        return {
            "mailing_list_ref": f"mailing.list,{mailing_list.id}",
            "mailing_contact_count": len(contacts),
            "removed_no_email_count": len(rows) - len(reached),
        }

    def _mailing_contacts(self, reached):
        """The mailing contacts of ``reached`` customers (``[(id, name, email)]``): one per customer.

        The mailing contacts already there for an address are reused, one per customer of that
        address: first the one named after the customer, then the others in their order; customers
        left over get new contacts (Email Marketing still sends one mail per address)."""
        Contact = self.env["mailing.contact"]
        free = defaultdict(list)
        for contact in Contact.search(
            [("email_normalized", "in", list({email for *_x, email in reached}))], order="id"
        ):
            free[contact.email_normalized].append(contact)
        chosen, unmatched = [], []
        for customer in reached:
            _pid, name, email = customer
            named = next(
                (c for c in free[email] if (c.name or "").strip().lower() == name.strip().lower()), None
            )
            if named:
                free[email].remove(named)
                chosen.append(named.id)
            else:
                unmatched.append(customer)
        to_create = []
        for pid, name, email in unmatched:
            if free[email]:
                chosen.append(free[email].pop(0).id)
            else:
                to_create.append((pid, name, email))
        partners = self.env["res.partner"].browse([pid for pid, _name, _email in to_create])
        companies = {partner.id: partner.commercial_company_name or partner.name for partner in partners}
        return Contact.browse(chosen) | Contact.create(
            [{"name": name, "email": email, "company_name": companies[pid]} for pid, name, email in to_create]
        )

    def action_open_mailing_list(self):
        self.ensure_one()
        if not self.mailing_list_ref:
            raise UserError(
                self.env._("No mailing list was written: tick Write a mailing list and select again.")
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": self.mailing_list_ref._name,
            "res_id": self.mailing_list_ref.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_open_targets(self):
        return self.campaign_id.action_crm_ror_open_targets()
