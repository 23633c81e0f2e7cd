from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine.key_dates import reminder_due


class CrmRorKeyDate(models.Model):
    _name = "crm.ror.key.date"
    _description = "Customer Key Date"
    _order = "partner_id, date"

    partner_id = fields.Many2one(
        "res.partner", string="Contact", required=True, ondelete="cascade", index=True
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", string="Customer", store=True, index=True
    )
    user_id = fields.Many2one(
        related="commercial_partner_id.user_id", string="Salesperson", store=True, index=True
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        help="Company whose salesperson is reminded.",
    )
    kind = fields.Selection(
        [
            ("birthday", "Birthday"),
            ("anniversary", "Anniversary"),
            ("customer_since", "Customer Since"),
            ("custom", "Custom"),
        ],
        required=True,
        default="birthday",
    )
    date = fields.Date(required=True)
    label = fields.Char(help="Shown in the reminder, e.g. 'Wedding anniversary' or 'Company founded'.")
    remind_days_before = fields.Integer(
        default=lambda self: self.env.company.crm_ror_key_date_remind_days,
    )
    recurring = fields.Boolean(string="Every Year", default=True)
    last_reminded_date = fields.Date(
        string="Last Reminded Occurrence",
        readonly=True,
        copy=False,
        help="Occurrence of the date the salesperson was last reminded of; one reminder per occurrence.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "remind_days_positive",
            "CHECK(remind_days_before >= 0)",
            "Remind days before a key date cannot be negative: use 0 to be reminded on the day.",
        ),
    ]

    @api.depends("kind", "label", "partner_id", "date")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for key_date in self:
            what = key_date.label or kinds.get(key_date.kind, "")
            key_date.display_name = f"{key_date.partner_id.display_name or ''}: {what}"

    def _reminder_summary(self, occurrence):
        self.ensure_one()
        kinds = {
            "birthday": self.env._("Birthday"),
            "anniversary": self.env._("Anniversary"),
            "customer_since": self.env._("Customer anniversary"),
            "custom": self.env._("Key date"),
        }
        return self.env._(
            "%(what)s of %(partner)s on %(date)s",
            what=self.label or kinds[self.kind],
            partner=self.partner_id.display_name,
            date=fields.Date.to_string(occurrence),
        )

    def _reminder_note(self):
        """The contact's preferred channel (or its company's), for the salesperson to reach them."""
        self.ensure_one()
        partner = self.partner_id
        channel_partner = partner if partner.crm_ror_preferred_channel else partner.commercial_partner_id
        if not channel_partner.crm_ror_preferred_channel:
            return False
        channels = dict(partner._fields["crm_ror_preferred_channel"]._description_selection(self.env))
        return self.env._(
            "Preferred channel: %(channel)s", channel=channels[channel_partner.crm_ror_preferred_channel]
        )

    @api.model
    def _cron_create_reminders(self, today=None):
        """Create the due key-date reminders as To-Do activities for the customers' salespersons.

        Key dates are read in one query, the dates due today picked by the engine, then the
        activities created and the reminded occurrences written in batches. Contacts not to be
        contacted, without salesperson, or archived are skipped, and so are key dates of a company
        their salesperson does not work in.
        """
        today = today or fields.Date.context_today(self)
        self.flush_model()
        Partner = self.env["res.partner"]
        rows = self.env.execute_query(
            SQL(
                """
                SELECT kd.id, kd.date, kd.remind_days_before, kd.recurring, kd.last_reminded_date, cp.user_id
                  FROM crm_ror_key_date kd
                  JOIN res_partner p ON p.id = kd.partner_id
                  JOIN res_partner cp ON cp.id = p.commercial_partner_id
                 WHERE kd.active AND p.active AND cp.user_id IS NOT NULL
                   AND NOT %s
                   -- the reminder is for the key date's company: its salesperson must work in it
                   AND EXISTS (SELECT 1 FROM res_company_users_rel cu
                                WHERE cu.user_id = cp.user_id AND cu.cid = kd.company_id)
                """,
                Partner._crm_ror_outreach_blocked_sql(SQL("p")),
            )
        )
        due = {}
        for key_date_id, day, remind_days, recurring, last_reminded, user_id in rows:
            occurrence = reminder_due(day, today, remind_days, recurring, last_reminded)
            if occurrence:
                due[key_date_id] = (occurrence, user_id)
        if not due:
            return self.browse()
        key_dates = self.browse(list(due)).with_prefetch(list(due))
        todo = self.env.ref("mail.mail_activity_data_todo")
        partner_model_id = self.env["ir.model"]._get_id("res.partner")
        # Written in the salesperson's language (sudo: only the language of the users is read).
        users = self.env["res.users"].sudo().browse({user_id for _occurrence, user_id in due.values()})
        langs = {user.id: user.lang for user in users}
        # sudo: the cron assigns activities to each customer's salesperson, on partners it may not edit.
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(
            [
                {
                    "res_model_id": partner_model_id,
                    "res_id": key_date.partner_id.id,
                    "activity_type_id": todo.id,
                    "summary": key_date.with_context(lang=langs[due[key_date.id][1]])._reminder_summary(
                        due[key_date.id][0]
                    ),
                    "date_deadline": due[key_date.id][0],
                    "user_id": due[key_date.id][1],
                    "note": key_date.with_context(lang=langs[due[key_date.id][1]])._reminder_note(),
                }
                for key_date in key_dates
            ]
        )
        by_occurrence = defaultdict(list)
        for key_date_id, (occurrence, _user_id) in due.items():
            by_occurrence[occurrence].append(key_date_id)
        for occurrence, ids in by_occurrence.items():
            self.browse(ids).write({"last_reminded_date": occurrence})
        return key_dates
