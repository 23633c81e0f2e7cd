import threading
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
        """Schedule each rule's activity once per matching lead and idle episode (run by the daily lead
        cron), set-wise: one statement per rule creates the activities as stock's ``create`` fills
        them, subscribes their salespeople and writes the logs; a commit follows each rule (outside
        tests). Returns the logs written."""
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        Lead = self.env["crm.lead"]
        Lead.flush_model()
        self.env["res.users"].flush_model(["active", "share", "partner_id"])
        self.env["res.partner"].flush_model(["tz"])
        self.env["res.company"].flush_model(["crm_ror_lead_fallback_user_id"])
        self.env["crm.team"].flush_model(["user_id"])
        self.env["mail.activity"].flush_model()
        self.env["mail.followers"].flush_model()
        Log = self.env["crm.ror.nurture.log"].sudo()  # sudo: the log is the cron's own bookkeeping
        Log.flush_model()
        res_model_id = self.env["ir.model"]._get_id("crm.lead")
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        default_subtypes = self.env["mail.message.subtype"].default_subtypes("crm.lead")[0]
        reason = self.env._("no active salesperson, team leader or fallback salesperson")
        log_ids = []
        notified = set()
        for rule in self.search([]):
            matches = rule._matching_leads(now)
            if not matches:
                continue
            owners = self.env["res.users"].browse(
                {user_id for _lead, _engaged, user_id in matches if user_id}
            )
            # each salesperson's activity in his language
            texts = []
            for user in owners:
                localized = rule.with_context(lang=user.lang)
                texts.append(
                    SQL("(%s, %s, %s)", user.id, localized.summary or localized.name, localized.note or None)
                )
            deadline = fields.Date.add(today, days=rule.delay_days)
            rows = self.env.execute_query(
                SQL(
                    """
                    WITH todo AS (
                        SELECT * FROM unnest(%(lead_ids)s::int[], %(dates)s::timestamp[], %(user_ids)s::int[])
                                   AS todo(lead_id, engaged, user_id)
                    ),
                    text AS (
                        SELECT * FROM (VALUES %(texts)s) AS text(user_id, summary, note)
                    ),
                    activity AS (
                        INSERT INTO mail_activity (res_model_id, res_model, res_id, res_name, activity_type_id,
                                                   summary, note, date_deadline, user_id, user_tz, automated,
                                                   active, create_uid, create_date, write_uid, write_date)
                        SELECT %(model_id)s, 'crm.lead', todo.lead_id, lead.name, %(type)s, text.summary,
                               text.note, %(deadline)s, todo.user_id, partner.tz, FALSE, TRUE,
                               %(uid)s, %(now)s, %(uid)s, %(now)s
                          FROM todo
                          JOIN crm_lead lead ON lead.id = todo.lead_id
                          JOIN text ON text.user_id = todo.user_id
                          JOIN res_users usr ON usr.id = todo.user_id
                          JOIN res_partner partner ON partner.id = usr.partner_id
                     RETURNING id, res_id, user_id
                    ),
                    -- stock's activity create subscribes its salesperson to the lead
                    follower AS (
                        INSERT INTO mail_followers (res_model, res_id, partner_id)
                        SELECT DISTINCT 'crm.lead', activity.res_id, usr.partner_id
                          FROM activity JOIN res_users usr ON usr.id = activity.user_id
                            ON CONFLICT DO NOTHING
                     RETURNING id
                    ),
                    subscribed AS (
                        INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id,
                                                                             mail_message_subtype_id)
                        SELECT follower.id, subtype FROM follower, unnest(%(subtypes)s::int[]) subtype
                    ),
                    -- a lead skipped before and scheduled now keeps its log (same rule, lead and episode)
                    logged AS (
                        INSERT INTO crm_ror_nurture_log AS log (rule_id, lead_id, date_engagement, activity_id,
                                                                user_id, skip_reason, company_id,
                                                                create_uid, create_date, write_uid, write_date)
                        SELECT %(rule)s, todo.lead_id, todo.engaged, activity.id, todo.user_id,
                               CASE WHEN activity.id IS NULL THEN %(reason)s END, lead.company_id,
                               %(uid)s, %(now)s, %(uid)s, %(now)s
                          FROM todo
                          JOIN crm_lead lead ON lead.id = todo.lead_id
                     LEFT JOIN activity ON activity.res_id = todo.lead_id
                            ON CONFLICT (rule_id, lead_id, date_engagement) DO UPDATE
                           SET activity_id = EXCLUDED.activity_id, user_id = EXCLUDED.user_id,
                               skip_reason = NULL, write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                         WHERE EXCLUDED.activity_id IS NOT NULL
                     RETURNING log.id
                    )
                    SELECT (SELECT ARRAY_AGG(id) FROM logged), (SELECT ARRAY_AGG(DISTINCT user_id) FROM activity)
                    """,
                    lead_ids=[lead_id for lead_id, _engaged, _user in matches],
                    dates=[engaged for _lead, engaged, _user in matches],
                    user_ids=[user_id for _lead, _engaged, user_id in matches],
                    texts=SQL(", ").join(texts) if texts else SQL("(NULL::int, NULL::varchar, NULL::text)"),
                    model_id=res_model_id,
                    type=rule.activity_type_id.id,
                    deadline=deadline,
                    uid=self.env.uid,
                    now=now,
                    subtypes=default_subtypes.ids,
                    rule=rule.id,
                    reason=reason,
                )
            )
            ids, users = rows[0]
            log_ids += ids or []
            if users and deadline <= fields.Date.today():
                notified.update(users)
            if auto_commit:
                # one rule per transaction: a failure keeps the rules already applied
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env["mail.activity"].invalidate_model()
        self.env["mail.followers"].invalidate_model()
        Log.invalidate_model()
        Lead.invalidate_model(["activity_ids", "message_follower_ids", "message_partner_ids"])
        self.invalidate_model(["log_ids", "log_count", "skipped_count"])
        # the salespeople's activity counters refresh, as after stock's create
        for user in self.env["res.users"].browse(sorted(notified)):
            user._bus_send("mail.activity/updated", {"activity_created": True})
        return Log.browse(log_ids)
