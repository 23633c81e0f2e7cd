from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.tools import SQL

from .crm_lead import TEMPERATURES


class CrmRorNurtureRule(models.Model):
    """A daily rule: open leads of a temperature idle for a while get an activity, once per idle episode.

    The activity goes to the lead's salesperson, else the team leader, else the company's fallback
    salesperson, never to OdooBot; a lead nobody can take is logged as skipped and retried next run.
    Leads that already have an open activity, whose contact must not be contacted (Do Not Contact,
    blacklisted email) or idle since before the rule's window, are left alone."""

    _name = "crm.ror.nurture.rule"
    _description = "Lead Nurture Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True, ondelete="cascade"
    )
    team_id = fields.Many2one(
        "crm.team", "Sales Team", index=True, help="Leave empty to apply the rule to the leads of every team."
    )
    temperature = fields.Selection(TEMPERATURES, help="Leave empty for leads of any temperature.")
    min_idle_days = fields.Integer(
        "Idle For (Days)",
        default=14,
        required=True,
        help="The rule applies to open leads idle at least this long.",
    )
    max_idle_days = fields.Integer(
        "Idle At Most (Days)",
        default=90,
        help="Leads idle longer than this are left alone (so the first run does not flood years-old "
        "leads). 0: no limit.",
    )
    date_start = fields.Date(
        "Idle Since At Least",
        help="Only leads whose idleness began on or after this date: e.g. the day the rule starts.",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        required=True,
        domain="['|', ('res_model', '=', False), ('res_model', '=', 'crm.lead')]",
    )
    summary = fields.Char(translate=True)
    note = fields.Html(translate=True)
    delay_days = fields.Integer(
        "Due In (Days)", default=0, help="Days between the rule firing and the activity's deadline."
    )
    log_ids = fields.One2many("crm.ror.nurture.log", "rule_id", "Activities Created")
    log_count = fields.Integer(compute="_compute_log_count")
    skipped_count = fields.Integer("Leads Skipped", compute="_compute_log_count")

    _sql_constraints = [
        (
            "min_idle_days_positive",
            "CHECK(min_idle_days >= 0)",
            "The idle days of a nurture rule cannot be negative.",
        ),
        (
            "max_idle_days_positive",
            "CHECK(max_idle_days = 0 OR max_idle_days >= min_idle_days)",
            "The maximum idle days of a nurture rule must be 0 (no limit) or at least its minimum.",
        ),
        (
            "delay_days_positive",
            "CHECK(delay_days >= 0)",
            "The due delay of a nurture rule cannot be negative.",
        ),
    ]

    @api.depends("log_ids.skip_reason")
    def _compute_log_count(self):
        logs = self.env["crm.ror.nurture.log"]
        scheduled = dict(
            logs._read_group(
                [("rule_id", "in", self.ids), ("skip_reason", "=", False)], ["rule_id"], ["__count"]
            )
        )
        skipped = dict(
            logs._read_group(
                [("rule_id", "in", self.ids), ("skip_reason", "!=", False)], ["rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.log_count = scheduled.get(rule, 0)
            rule.skipped_count = skipped.get(rule, 0)

    def action_view_leads(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Leads nurtured by %(rule)s", rule=self.name),
            "res_model": "crm.lead",
            "view_mode": "list,form",
            "domain": [("id", "in", self.log_ids.filtered(lambda log: not log.skip_reason).lead_id.ids)],
            "context": {"active_test": False},
        }

    def action_view_skipped(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Leads %(rule)s could not nurture", rule=self.name),
            "res_model": "crm.ror.nurture.log",
            "view_mode": "list",
            "domain": [("rule_id", "=", self.id), ("skip_reason", "!=", False)],
        }

    def _matching_leads(self, now):
        """``[(lead_id, engagement date, user_id or None)]``: the open leads in an idle episode the rule
        has not scheduled an activity for yet."""
        self.ensure_one()
        engaged = SQL(
            "GREATEST(lead.create_date, lead.date_last_stage_update, lead.date_last_activity_done,"
            " lead.date_last_customer_message)"
        )
        conditions = [
            SQL("lead.active AND NOT COALESCE(stage.is_won, FALSE)"),
            SQL("%s <= %s", engaged, now - timedelta(days=self.min_idle_days)),
            SQL(
                """NOT EXISTS (SELECT 1 FROM crm_ror_nurture_log log
                                WHERE log.rule_id = %s AND log.lead_id = lead.id AND log.date_engagement = %s
                                  AND log.skip_reason IS NULL)""",
                self.id,
                engaged,
            ),
            # a salesperson already has something planned on it
            SQL(
                """NOT EXISTS (SELECT 1 FROM mail_activity act
                                WHERE act.res_model = 'crm.lead' AND act.res_id = lead.id
                                  AND COALESCE(act.active, TRUE))"""
            ),
            # nobody may contact the customer
            SQL(
                """NOT EXISTS (SELECT 1 FROM mail_blacklist bl
                                WHERE bl.active AND bl.email = lead.email_normalized)"""
            ),
            SQL(
                "(lead.partner_id IS NULL OR NOT %s)",
                self.env["res.partner"]._crm_ror_outreach_blocked_sql(SQL("customer")),
            ),
        ]
        if self.max_idle_days:
            conditions.append(SQL("%s > %s", engaged, now - timedelta(days=self.max_idle_days + 1)))
        if self.date_start:
            conditions.append(SQL("%s >= %s", engaged, fields.Datetime.to_datetime(self.date_start)))
        if self.team_id:
            conditions.append(SQL("lead.team_id = %s", self.team_id.id))
        # A rule acts on its company's leads only (a rule left without company matches none).
        conditions.append(SQL("lead.company_id = %s", self.company_id.id or None))
        if self.temperature:
            conditions.append(SQL("lead.temperature = %s", self.temperature))
        return self.env.execute_query(
            SQL(
                """
                SELECT lead.id, %(engaged)s,
                       CASE WHEN owner.active AND NOT owner.share AND owner.id != %(root)s THEN owner.id
                            WHEN leader.active AND NOT leader.share AND leader.id != %(root)s THEN leader.id
                            WHEN fallback.active AND NOT fallback.share AND fallback.id != %(root)s
                                THEN fallback.id END
                  FROM crm_lead lead
             LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
             LEFT JOIN res_partner customer ON customer.id = lead.partner_id
             LEFT JOIN res_users owner ON owner.id = lead.user_id
             LEFT JOIN crm_team team ON team.id = lead.team_id
             LEFT JOIN res_users leader ON leader.id = team.user_id
             LEFT JOIN res_company company ON company.id = lead.company_id
             LEFT JOIN res_users fallback ON fallback.id = company.crm_ror_lead_fallback_user_id
                 WHERE %(where)s
              ORDER BY lead.id
                """,
                engaged=engaged,
                root=SUPERUSER_ID,
                where=SQL(" AND ").join(conditions),
            )
        )

    @api.model
    def _cron_apply_nurture_rules(self):
        """Schedule each rule's activity once per matching lead and idle episode (run by the daily lead cron)."""
        Lead = self.env["crm.lead"]
        Lead.flush_model()
        self.env["res.users"].flush_model(["active", "share"])
        self.env["res.company"].flush_model(["crm_ror_lead_fallback_user_id"])
        self.env["crm.team"].flush_model(["user_id"])
        self.env["mail.activity"].flush_model(["res_model", "res_id", "active"])
        self.env["crm.ror.nurture.log"].flush_model()
        res_model_id = self.env["ir.model"]._get_id("crm.lead")
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        Log = self.env["crm.ror.nurture.log"].sudo()  # sudo: the log is the cron's own bookkeeping
        Users = self.env["res.users"]
        created = Log.browse()
        companies = {}
        for rule in self.search([]):
            matches = rule._matching_leads(now)
            if not matches:
                continue
            companies.update(
                (lead.id, lead.company_id.id)
                for lead in Lead.browse([m[0] for m in matches if m[0] not in companies])
            )
            to_schedule = [(lead_id, engaged, user_id) for lead_id, engaged, user_id in matches if user_id]
            langs = {user.id: user.lang for user in Users.browse({m[2] for m in to_schedule})}
            texts = {}
            for lang in set(langs.values()):
                localized = rule.with_context(lang=lang)
                texts[lang] = (localized.summary or localized.name, localized.note)
            # sudo: the cron (or a manager) schedules activities for other salespeople
            activities = (
                self.env["mail.activity"]
                .sudo()
                .with_context(mail_activity_quick_update=True)
                .create(
                    [
                        {
                            "res_model_id": res_model_id,
                            "res_id": lead_id,
                            "activity_type_id": rule.activity_type_id.id,
                            "summary": texts[langs[user_id]][0],
                            "note": texts[langs[user_id]][1],
                            "user_id": user_id,
                            "date_deadline": fields.Date.add(today, days=rule.delay_days),
                        }
                        for lead_id, _engaged, user_id in to_schedule
                    ]
                )
            )
            previous = {
                (log.lead_id.id, log.date_engagement): log
                for log in Log.search(
                    [
                        ("rule_id", "=", rule.id),
                        ("lead_id", "in", [m[0] for m in matches]),
                        ("skip_reason", "!=", False),
                    ]
                )
            }
            new_logs, resumed = [], []
            for (lead_id, engaged, user_id), activity in zip(to_schedule, activities, strict=True):
                if (lead_id, engaged) in previous:
                    resumed.append(SQL("(%s, %s, %s)", previous[(lead_id, engaged)].id, activity.id, user_id))
                else:
                    new_logs.append(
                        {
                            "rule_id": rule.id,
                            "lead_id": lead_id,
                            "date_engagement": engaged,
                            "activity_id": activity.id,
                            "user_id": user_id,
                        }
                    )
            if resumed:
                # Skipped leads now scheduled: one statement, each log its own activity.
                self.env.execute_query(
                    SQL(
                        """
                        UPDATE crm_ror_nurture_log log
                           SET activity_id = v.activity_id, user_id = v.user_id, skip_reason = NULL,
                               write_uid = %s, write_date = NOW() AT TIME ZONE 'UTC'
                          FROM (VALUES %s) AS v(id, activity_id, user_id)
                         WHERE log.id = v.id
                        """,
                        self.env.uid,
                        SQL(", ").join(resumed),
                    )
                )
                Log.invalidate_model(["activity_id", "user_id", "skip_reason", "write_uid", "write_date"])
                self.invalidate_model(["log_count", "skipped_count"])
            reason = self.env._("no active salesperson, team leader or fallback salesperson")
            new_logs += [
                {
                    "rule_id": rule.id,
                    "lead_id": lead_id,
                    "company_id": companies[lead_id],
                    "date_engagement": engaged,
                    "skip_reason": reason,
                }
                for lead_id, engaged, user_id in matches
                if not user_id and (lead_id, engaged) not in previous
            ]
            created |= Log.create(new_logs)
        return created
