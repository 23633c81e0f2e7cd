import logging
import threading
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL
from odoo.tools.sql import create_index, drop_index

from ..engine import temperature as temperature_engine

_logger = logging.getLogger(__name__)

TEMPERATURES = [
    (temperature_engine.HOT, "Hot"),
    (temperature_engine.WARM, "Warm"),
    (temperature_engine.COLD, "Cold"),
]
DEFAULT_BLACK_HOLE_DAYS = 30
# the calibration snapshot: a lead's temperature when it is this many days old
CALIBRATION_AGE_DAYS = 30
# the snapshot is taken by the first cron run in this window after that age (the cron may miss days)
CALIBRATION_WINDOW_DAYS = 7


def snapshot_todo_sql(alias=""):
    """The leads that may still need their 30-day snapshot (a partial index's predicate): none yet,
    and not closed younger than that (the report uses their temperature at close)."""
    return (
        f"{alias}temperature_at_age IS NULL AND ({alias}date_closed IS NULL"
        f" OR {alias}date_closed >= {alias}create_date + INTERVAL '{CALIBRATION_AGE_DAYS} days')"
    )


# leads per UPDATE (and per commit) of the daily cron
TEMPERATURE_CHUNK = 20000
# writes of these fields change a lead's temperature: the lead is recomputed once, at commit
# Written only by the set-wise SQL recompute; the calibration report trusts them.
TEMPERATURE_SERVER_FIELDS = frozenset(
    {"temperature", "temperature_score", "is_neglected", "temperature_at_close", "temperature_at_age"}
)
TEMPERATURE_TRIGGERS = frozenset(
    {
        "active",
        "stage_id",
        "probability",
        "automated_probability",
        "priority",
        "date_deadline",
        "team_id",
        "temperature_manual",
        "temperature_manual_until",
        "date_last_stage_update",
        "date_last_activity_done",
        "date_last_customer_message",
    }
)
PRECOMMIT_KEY = "crm_ror.temperature_lead_ids"
ENGAGEMENT_WATERMARK = "crm_ror.engagement_message_id"


class CrmLead(models.Model):
    """Lead temperature (HOT / WARM / COLD), idle days and the black hole.

    ``temperature``, ``temperature_score`` and ``is_neglected`` are plain stored fields written
    set-wise by one SQL statement (``_ror_recompute_temperature``), never per lead through the ORM:

    - by the daily lead cron, in chunks with a commit per chunk, writing only rows whose values
      change (``IS DISTINCT FROM``);
    - after the user events that change them (see ``TEMPERATURE_TRIGGERS``): ``write``/``create``
      only collect the lead ids, and one precommit hook recomputes them once per transaction.

    So stock crm's lead-by-lead writes (assignment, conversion, PLS) cost no query. Level changes of
    open leads are logged in the chatter, bulk-inserted by the same statement. ``idle_days`` and
    ``date_last_engagement`` are not stored: they are computed, and searched through the four dates.
    """

    _inherit = "crm.lead"

    # not indexed: the daily UPDATE then touches no index, so PostgreSQL can update rows in place (HOT)
    temperature = fields.Selection(
        TEMPERATURES,
        readonly=True,
        copy=False,
        help="HOT / WARM / COLD from Odoo's predictive probability, the priority, engagement and the "
        "expected closing date (weights and thresholds on the sales team). Empty on closed leads.",
    )
    temperature_score = fields.Float(
        readonly=True, copy=False, aggregator="avg", digits=(16, 0), help="0-100, in whole points."
    )
    is_neglected = fields.Boolean(
        "Neglected",
        readonly=True,
        copy=False,
        help="Open lead idle at least the sales team's 'Neglected After' days (when set).",
    )
    temperature_at_close = fields.Selection(
        TEMPERATURES,
        "Temperature at Close",
        readonly=True,
        copy=False,
        help="The temperature when it was won or lost.",
    )
    temperature_at_age = fields.Selection(
        TEMPERATURES,
        f"Temperature at {CALIBRATION_AGE_DAYS} Days",
        readonly=True,
        copy=False,
        help="The temperature the lead had when it was a month old: the calibration report compares "
        "the win rates of these levels.",
    )
    idle_days = fields.Integer(
        compute="_compute_idle_days",
        search="_search_idle_days",
        help="Days since the last engagement: activity done, customer message or stage change.",
    )
    date_last_engagement = fields.Datetime(
        "Last Engagement", compute="_compute_idle_days", search="_search_date_last_engagement"
    )
    temperature_part_probability = fields.Float("Probability Points", compute="_compute_temperature_parts")
    temperature_part_priority = fields.Float("Priority Points", compute="_compute_temperature_parts")
    temperature_part_engagement = fields.Float("Engagement Points", compute="_compute_temperature_parts")
    temperature_part_deadline = fields.Float("Closing Date Points", compute="_compute_temperature_parts")
    temperature_explanation = fields.Char("Why This Temperature", compute="_compute_temperature_parts")
    temperature_manual = fields.Selection(
        TEMPERATURES,
        "Manual Temperature",
        tracking=True,
        copy=False,
        help="Overrides the computed temperature until the date below (or for good when empty).",
    )
    temperature_manual_until = fields.Date("Manual Temperature Until", tracking=True, copy=False)
    temperature_manual_reason = fields.Char("Override Reason", tracking=True, copy=False)
    temperature_manual_expired = fields.Boolean(
        "Override Expired", compute="_compute_temperature_manual_expired"
    )
    date_last_activity_done = fields.Datetime("Last Activity Done", readonly=True, copy=False)
    date_last_customer_message = fields.Datetime("Last Customer Message", readonly=True, copy=False)
    ror_owner_departed = fields.Boolean(
        "Salesperson Departed",
        compute="_compute_ror_owner_departed",
        search="_search_ror_owner_departed",
        help="The salesperson is archived, or was removed from every sales team and leads none.",
    )

    def init(self):
        res = super().init()
        # databases installed before the field lost its index (kept by Odoo otherwise)
        drop_index(self.env.cr, "crm_lead__temperature_index", self._table)
        # the leads that may still need a 30-day snapshot, so that the daily backfill reads only those;
        # the daily temperature UPDATE changes none of its columns (its rows stay HOT-updatable)
        create_index(
            self.env.cr,
            "crm_lead_ror_snapshot_todo_index",
            self._table,
            ["create_date"],
            where=snapshot_todo_sql(),
        )
        return res

    # ------------------------------------------------------------------
    # Computed, not stored
    # ------------------------------------------------------------------

    @api.depends(
        "create_date", "date_last_stage_update", "date_last_activity_done", "date_last_customer_message"
    )
    def _compute_idle_days(self):
        now = fields.Datetime.now()
        for lead in self:
            dates = [
                d
                for d in (
                    lead.create_date,
                    lead.date_last_stage_update,
                    lead.date_last_activity_done,
                    lead.date_last_customer_message,
                )
                if d
            ]
            lead.date_last_engagement = max(dates) if dates else False
            lead.idle_days = temperature_engine.idle_days(lead.date_last_engagement, now)

    def _search_date_last_engagement(self, operator, value):
        if operator not in ("<", "<=", ">", ">=") or not value:
            return NotImplemented
        dates = (
            "create_date",
            "date_last_stage_update",
            "date_last_activity_done",
            "date_last_customer_message",
        )
        if operator in ("<", "<="):
            # the latest date is before: every date set is
            domain = [("create_date", operator, value)]
            for fname in dates[1:]:
                domain += ["|", (fname, "=", False), (fname, operator, value)]
            return domain
        return ["|"] * (len(dates) - 1) + [(fname, operator, value) for fname in dates]

    def _search_idle_days(self, operator, value):
        if operator not in ("=", "<", "<=", ">", ">=") or not isinstance(value, int):
            return NotImplemented
        now = fields.Datetime.now()

        def at_least(days):  # idle >= days
            return [("date_last_engagement", "<=", now - timedelta(days=days))]

        def below(days):  # idle < days
            return [("date_last_engagement", ">", now - timedelta(days=days))]

        if operator == ">=":
            return at_least(value)
        if operator == ">":
            return at_least(value + 1)
        if operator == "<":
            return below(value)
        if operator == "<=":
            return below(value + 1)
        return at_least(value) + below(value + 1)

    @api.depends(
        "probability",
        "automated_probability",
        "priority",
        "date_deadline",
        "team_id",
        "create_date",
        "date_last_stage_update",
        "date_last_activity_done",
        "date_last_customer_message",
    )
    def _compute_temperature_parts(self):
        """Each factor's points in the score, as of now (the stored score is as of the last recompute)."""
        today = fields.Date.today()
        params = {}
        labels = {
            "probability": self.env._("probability"),
            "priority": self.env._("priority"),
            "engagement": self.env._("engagement"),
            "deadline": self.env._("closing date"),
        }
        for lead in self:
            team = lead.team_id
            if team.id not in params:
                params[team.id] = team._temperature_params()
            probability = (
                lead.automated_probability if team.temperature_use_automated_probability else lead.probability
            )
            parts = temperature_engine.contributions(
                probability, lead.priority, lead.idle_days, lead.date_deadline, today, params[team.id]
            )
            lead.temperature_part_probability = parts["probability"]
            lead.temperature_part_priority = parts["priority"]
            lead.temperature_part_engagement = parts["engagement"]
            lead.temperature_part_deadline = parts["deadline"]
            lead.temperature_explanation = " + ".join(
                f"{labels[key]} {parts[key]:.1f}" for key in temperature_engine.FACTORS
            ) + self.env._(
                " = %(score)s (warm from %(warm)s, hot from %(hot)s)",
                score=temperature_engine.rounded(sum(parts.values())),
                warm=params[team.id].warm_threshold,
                hot=params[team.id].hot_threshold,
            )

    @api.depends("temperature_manual", "temperature_manual_until")
    def _compute_temperature_manual_expired(self):
        today = fields.Date.context_today(self)
        for lead in self:
            lead.temperature_manual_expired = bool(
                lead.temperature_manual
                and lead.temperature_manual_until
                and lead.temperature_manual_until < today
            )

    def _compute_ror_owner_departed(self):
        departed = set(self._ror_departed_user_ids())
        for lead in self:
            lead.ror_owner_departed = lead.user_id.id in departed

    def _search_ror_owner_departed(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        user_ids = self._ror_departed_user_ids()
        return [("user_id", "in" if (operator == "=") == value else "not in", user_ids)]

    @api.model
    def _ror_departed_user_ids(self):
        """Archived internal users, and active ones removed from every sales team who lead none."""
        self.env["res.users"].flush_model(["active", "share"])
        self.env["crm.team.member"].flush_model(["user_id", "crm_team_id", "active"])
        self.env["crm.team"].flush_model(["user_id", "active"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT usr.id FROM res_users usr
                 WHERE NOT usr.share AND (
                       NOT usr.active
                    OR (EXISTS (SELECT 1 FROM crm_team_member old WHERE old.user_id = usr.id)
                        AND NOT EXISTS (SELECT 1 FROM crm_team_member member
                                          JOIN crm_team team ON team.id = member.crm_team_id
                                         WHERE member.user_id = usr.id AND member.active AND team.active)
                        AND NOT EXISTS (SELECT 1 FROM crm_team team WHERE team.user_id = usr.id AND team.active)))
                """
            )
        )
        return [row[0] for row in rows]

    @api.constrains("temperature_manual", "temperature_manual_reason")
    def _check_temperature_manual_reason(self):
        for lead in self:
            if lead.temperature_manual and not (lead.temperature_manual_reason or "").strip():
                raise ValidationError(
                    self.env._(
                        "Lead %(lead)s: say why its temperature is set by hand (Override Reason), "
                        "or clear the manual temperature.",
                        lead=lead.display_name,
                    )
                )

    def _temperature_is_open(self):
        self.ensure_one()
        return self.active and not self.stage_id.is_won

    def _open_leads_domain(self):
        return [("active", "=", True), ("stage_id.is_won", "=", False)]

    # ------------------------------------------------------------------
    # Events: collect, recompute once at commit
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._ror_refuse_temperature_writes(vals, vals.get("name"))
        leads = super().create(vals_list)
        leads._ror_temperature_later()
        return leads

    def write(self, vals):
        self._ror_refuse_temperature_writes(vals, self[:1].display_name)
        res = super().write(vals)
        if not TEMPERATURE_TRIGGERS.isdisjoint(vals):
            self._ror_temperature_later()
        return res

    def _ror_refuse_temperature_writes(self, vals, lead_name):
        """The computed temperature fields are the server's: users set the manual override instead."""
        written = TEMPERATURE_SERVER_FIELDS.intersection(vals)
        if written and not self.env.su:
            raise AccessError(
                self.env._(
                    "Lead %(lead)s: %(fields)s are computed by the server and cannot be written; set the "
                    "manual temperature (with its end date) instead.",
                    lead=lead_name or "?",
                    fields=", ".join(sorted(written)),
                )
            )

    def _ror_temperature_later(self):
        """Queue these leads for one set-wise recompute when the transaction commits (no query now)."""
        if not self:
            return
        precommit = self.env.cr.precommit
        if PRECOMMIT_KEY not in precommit.data:
            precommit.data[PRECOMMIT_KEY] = set()
            env = self.env
            precommit.add(lambda: env["crm.lead"]._ror_temperature_precommit())
        precommit.data[PRECOMMIT_KEY].update(self.ids)

    def _ror_temperature_precommit(self):
        lead_ids = self.env.cr.precommit.data.pop(PRECOMMIT_KEY, set())
        if lead_ids:
            self._ror_recompute_temperature(SQL("lead.id = ANY(%s)", sorted(lead_ids)))

    @api.model
    def _ror_schedule_temperature_recompute(self):
        # sudo: a sales manager saving his team may not read crons; this only queues the daily lead cron
        self.env.ref("crm_ror.ir_cron_crm_ror_lead_temperature").sudo()._trigger()

    # ------------------------------------------------------------------
    # The set-wise recompute
    # ------------------------------------------------------------------

    @api.model
    def _ror_engaged_at_sql(self, at):
        """SQL of a lead's (alias ``lead``) last engagement on or before ``at`` (SQL timestamp): its
        stored dates up to then, and the chatter's done activities, stage changes and customer
        messages up to then (the stored dates only keep the latest)."""
        return SQL(
            """GREATEST(lead.create_date,
                   CASE WHEN lead.date_last_stage_update <= %(at)s THEN lead.date_last_stage_update END,
                   CASE WHEN lead.date_last_activity_done <= %(at)s THEN lead.date_last_activity_done END,
                   CASE WHEN lead.date_last_customer_message <= %(at)s THEN lead.date_last_customer_message END,
                   (SELECT MAX(msg.date) FROM mail_message msg
                 LEFT JOIN mail_message_subtype subtype ON subtype.id = msg.subtype_id
                     WHERE msg.model = 'crm.lead' AND msg.res_id = lead.id AND msg.date <= %(at)s
                       AND ((msg.message_type = 'notification' AND msg.mail_activity_type_id IS NOT NULL)
                            OR EXISTS (SELECT 1 FROM mail_tracking_value stage_change
                                        WHERE stage_change.mail_message_id = msg.id
                                          AND stage_change.field_id = %(stage_field)s)
                            OR (NOT COALESCE(subtype.internal, FALSE)
                                AND ((msg.message_type = 'email' AND msg.author_id IS NULL)
                                     OR (msg.message_type IN ('email', 'comment') AND msg.author_id IS NOT NULL
                                         AND NOT EXISTS (SELECT 1 FROM res_users usr
                                                          WHERE usr.partner_id = msg.author_id
                                                            AND NOT usr.share)))))))""",
            at=at,
            stage_field=self.env["ir.model.fields"]._get("crm.lead", "stage_id").id,
        )

    @api.model
    def _ror_temperature_at_sql(self, at):
        """SQL of a lead's (alias ``lead``) temperature at ``at`` (SQL timestamp) from the chatter's
        tracking: the level set last on or before it, else the level the first later change left;
        NULL when the level never changed (then it is the lead's current one)."""
        labels = {}
        for lang, _name in self.env["res.lang"].get_installed():
            localized = self.with_context(lang=lang)
            for key, label in localized._fields["temperature"]._description_selection(localized.env):
                labels[label] = key
        labels.update((label, key) for key, label in TEMPERATURES)
        tracked = SQL(
            """SELECT label.level FROM mail_message msg
                 JOIN mail_tracking_value value ON value.mail_message_id = msg.id AND value.field_id = %(field)s
                 JOIN (VALUES %(labels)s) AS label(label, level) ON label.label = value.%(column)s
                WHERE msg.model = 'crm.lead' AND msg.res_id = lead.id AND %(when)s
             ORDER BY msg.date %(order)s, msg.id %(order)s LIMIT 1""",
            field=self.env["ir.model.fields"]._get("crm.lead", "temperature").id,
            labels=SQL(", ").join(SQL("(%s, %s)", label, key) for label, key in labels.items()),
            column=SQL("new_value_char"),
            when=SQL("msg.date <= %s", at),
            order=SQL("DESC"),
        )
        later = SQL(
            """SELECT label.level FROM mail_message msg
                 JOIN mail_tracking_value value ON value.mail_message_id = msg.id AND value.field_id = %(field)s
                 JOIN (VALUES %(labels)s) AS label(label, level) ON label.label = value.old_value_char
                WHERE msg.model = 'crm.lead' AND msg.res_id = lead.id AND msg.date > %(at)s
             ORDER BY msg.date, msg.id LIMIT 1""",
            field=self.env["ir.model.fields"]._get("crm.lead", "temperature").id,
            labels=SQL(", ").join(SQL("(%s, %s)", label, key) for label, key in labels.items()),
            at=at,
        )
        return SQL("COALESCE((%s), (%s))", tracked, later)

    @api.model
    def _ror_temperature_calc_sql(self, where, now, history=False):
        """SELECT of the new values of the leads matching ``where`` (alias ``lead``), as of ``now``.

        The same model as ``engine/temperature.py``, in SQL. With ``history``, each lead is scored as
        of the day it was ``CALIBRATION_AGE_DAYS`` old instead (column ``level_if_open``), from what is
        stored of that day: its engagement from the chatter and dates up to then, no manual override,
        and for a closed lead its predictive probability when stock kept one (stock sets it to 0 or
        100 at close: that would be the outcome), else the neutral 50."""
        today, recent = now.date(), now - timedelta(days=1)
        engaged = SQL(
            "GREATEST(lead.create_date, lead.date_last_stage_update,"
            " lead.date_last_activity_done, lead.date_last_customer_message)"
        )
        probability = SQL(
            "CASE WHEN team.temperature_use_automated_probability THEN lead.automated_probability"
            " ELSE lead.probability END"
        )
        manual = SQL("lead.temperature_manual")
        if history:
            now = SQL("(lead.create_date + %s * INTERVAL '1 day')", CALIBRATION_AGE_DAYS)
            today, recent = SQL("(%s)::date", now), SQL("(%s - INTERVAL '1 day')", now)
            engaged = self._ror_engaged_at_sql(now)
            probability = SQL(
                """CASE WHEN lead.active AND NOT COALESCE(stage.is_won, FALSE) THEN %s
                        WHEN lead.automated_probability > 0 AND lead.automated_probability < 100
                        THEN lead.automated_probability
                        ELSE %s END""",
                probability,
                temperature_engine.DEADLINE_NEUTRAL,
            )
            manual = SQL("NULL::varchar")
        p = temperature_engine.DEFAULT_PARAMS
        near, far = temperature_engine.DEADLINE_NEAR_DAYS, temperature_engine.DEADLINE_FAR_DAYS
        return SQL(
            """
            WITH base AS MATERIALIZED (
                SELECT lead.id, lead.temperature AS old_level, lead.temperature_score AS old_score,
                       lead.is_neglected AS old_neglected, lead.temperature_at_close AS old_at_close,
                       lead.temperature_at_age AS old_at_age,
                       lead.active AND NOT COALESCE(stage.is_won, FALSE) AS is_open,
                       COALESCE(lead.date_closed >= %(recent)s, FALSE) AS closed_now,
                       FLOOR(EXTRACT(EPOCH FROM (%(now)s - lead.create_date)) / 86400) AS age,
                       GREATEST(FLOOR(EXTRACT(EPOCH FROM (%(now)s - %(engaged)s)) / 86400), 0) AS idle,
                       LEAST(GREATEST(COALESCE(%(probability)s, 0), 0), 100) AS f_probability,
                       LEAST(GREATEST(COALESCE(NULLIF(lead.priority, ''), '0')::int, 0), 3) * 100.0 / 3 AS f_priority,
                       CASE WHEN lead.date_deadline IS NULL THEN %(neutral)s
                            WHEN lead.date_deadline < %(today)s THEN 0.0
                            WHEN lead.date_deadline - %(today)s <= %(near)s THEN 100.0
                            WHEN lead.date_deadline - %(today)s >= %(far)s THEN 0.0
                            ELSE 100.0 * (%(far)s - (lead.date_deadline - %(today)s)) / (%(far)s - %(near)s)
                        END AS f_deadline,
                       CASE WHEN %(manual)s IS NOT NULL
                             AND (lead.temperature_manual_until IS NULL OR lead.temperature_manual_until >= %(today)s)
                            THEN %(manual)s END AS manual,
                       COALESCE(team.temperature_hot_threshold, %(hot)s) AS hot,
                       COALESCE(team.temperature_warm_threshold, %(warm)s) AS warm,
                       COALESCE(team.temperature_half_life_days, %(half_life)s) AS half_life,
                       COALESCE(team.temperature_weight_probability, %(wp)s) AS w_probability,
                       COALESCE(team.temperature_weight_priority, %(wr)s) AS w_priority,
                       COALESCE(team.temperature_weight_engagement, %(we)s) AS w_engagement,
                       COALESCE(team.temperature_weight_deadline, %(wd)s) AS w_deadline,
                       COALESCE(team.black_hole_idle_days, %(black_hole)s) AS black_hole
                  FROM crm_lead lead
             LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
             LEFT JOIN crm_team team ON team.id = lead.team_id
                 WHERE %(where)s
            ), scored AS (
                SELECT base.*,
                       CASE WHEN w_probability + w_priority + w_engagement + w_deadline <= 0 THEN 0.0
                            ELSE (w_probability * f_probability + w_priority * f_priority
                                  + w_engagement * CASE WHEN half_life <= 0 THEN 100.0
                                                        ELSE 100.0 * POWER(2.0, -idle / half_life) END
                                  + w_deadline * f_deadline)
                                 / (w_probability + w_priority + w_engagement + w_deadline) END AS score
                  FROM base
            ), whole AS MATERIALIZED (
                SELECT scored.*, FLOOR(score + 0.5) AS whole_score FROM scored
            ), leveled AS (
                SELECT whole.*,
                       COALESCE(manual, CASE WHEN whole_score >= hot THEN 'hot' WHEN whole_score >= warm THEN 'warm'
                                             ELSE 'cold' END) AS level_if_open
                  FROM whole
            )
            SELECT id, old_level, old_score, old_neglected, old_at_close, old_at_age, level_if_open,
                   CASE WHEN is_open THEN level_if_open END AS level,
                   CASE WHEN is_open THEN whole_score ELSE 0.0 END AS score,
                   is_open AND black_hole > 0 AND idle >= black_hole AS neglected,
                   CASE WHEN is_open THEN NULL
                        WHEN old_level IS NOT NULL THEN old_level
                        WHEN old_at_close IS NOT NULL THEN old_at_close
                        WHEN closed_now THEN level_if_open END AS at_close,
                   CASE WHEN old_at_age IS NOT NULL THEN old_at_age
                        WHEN is_open AND age >= %(age)s AND age < %(age_end)s THEN level_if_open END AS at_age
              FROM leveled
            """,
            now=now,
            today=today,
            recent=recent,
            engaged=engaged,
            probability=probability,
            manual=manual,
            neutral=temperature_engine.DEADLINE_NEUTRAL,
            near=near,
            far=far,
            hot=p.hot_threshold,
            warm=p.warm_threshold,
            half_life=p.half_life_days,
            wp=p.weight_probability,
            wr=p.weight_priority,
            we=p.weight_engagement,
            wd=p.weight_deadline,
            black_hole=DEFAULT_BLACK_HOLE_DAYS,
            age=CALIBRATION_AGE_DAYS,
            age_end=CALIBRATION_AGE_DAYS + CALIBRATION_WINDOW_DAYS,
            where=where,
        )

    @api.model
    def _ror_tracking_values(self, field="temperature"):
        """What the bulk-inserted chatter messages tracking ``field`` need, computed once per run."""
        author = self.env.user.partner_id
        return {
            "author": author.id,
            "email_from": author.email_formatted or None,
            "reply_to": self.env["mail.thread"]._notify_get_reply_to(default=author.email_formatted)[False]
            or None,
            "subtype": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
            "field": self.env["ir.model.fields"]._get("crm.lead", field).id,
        }

    @api.model
    def _ror_recompute_temperature(self, where, now=None, tracking=None):
        """Recompute the leads matching ``where`` (on alias ``lead`` alone) in one statement; log their
        level changes.

        Only rows whose values change are written (no ``write_date`` bump: this is derived data).
        Returns ``(rows written, level changes logged)``."""
        now = now or fields.Datetime.now()
        tracking = tracking or self._ror_tracking_values()
        # what the SQL below reads and writes on crm_lead
        self.flush_model([*TEMPERATURE_TRIGGERS, *TEMPERATURE_SERVER_FIELDS])
        self.env["crm.team"].flush_model()
        self.env["crm.stage"].flush_model(["is_won"])
        labels = dict(TEMPERATURES)
        rows = self.env.execute_query(
            SQL(
                """
                WITH calc AS MATERIALIZED (%(calc)s),
                written AS (
                    UPDATE crm_lead lead
                       SET temperature = calc.level, temperature_score = calc.score,
                           is_neglected = calc.neglected, temperature_at_close = calc.at_close,
                           temperature_at_age = calc.at_age
                      FROM calc
                     WHERE lead.id = calc.id AND %(where)s
                       AND (calc.old_level, calc.old_score, COALESCE(calc.old_neglected, FALSE),
                            calc.old_at_close, calc.old_at_age)
                           IS DISTINCT FROM (calc.level, calc.score, calc.neglected, calc.at_close, calc.at_age)
                 RETURNING lead.id, calc.old_level, calc.level
                ),
                moved AS (
                    SELECT * FROM written
                     WHERE old_level IS NOT NULL AND level IS NOT NULL AND old_level != level
                ),
                message AS (
                    INSERT INTO mail_message (model, res_id, message_type, subtype_id, author_id, email_from,
                                              reply_to, message_id, body, is_internal, email_add_signature,
                                              date, create_uid, create_date, write_uid, write_date)
                    SELECT 'crm.lead', moved.id, 'notification', %(subtype)s, %(author)s, %(email_from)s,
                           %(reply_to)s, '<' || gen_random_uuid() || '-crm_ror-temperature@localhost>', '',
                           TRUE, FALSE, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM moved
                 RETURNING id, res_id
                ),
                tracked AS (
                    INSERT INTO mail_tracking_value (field_id, mail_message_id, old_value_char, new_value_char,
                                                     create_uid, create_date, write_uid, write_date)
                    SELECT %(field)s, message.id,
                           CASE moved.old_level WHEN 'hot' THEN %(hot)s WHEN 'warm' THEN %(warm)s ELSE %(cold)s END,
                           CASE moved.level WHEN 'hot' THEN %(hot)s WHEN 'warm' THEN %(warm)s ELSE %(cold)s END,
                           %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM message JOIN moved ON moved.id = message.res_id
                 RETURNING id
                )
                SELECT (SELECT COUNT(*) FROM written), (SELECT COUNT(*) FROM tracked),
                       (SELECT ARRAY_AGG(id) FROM written)
                """,
                calc=self._ror_temperature_calc_sql(where, now),
                where=where,
                uid=self.env.uid,
                now=now,
                **tracking,
                hot=labels["hot"],
                warm=labels["warm"],
                cold=labels["cold"],
            )
        )
        written, logged, ids = rows[0]
        # the time-based, non-stored figures move on with ``now`` too
        self.invalidate_model(
            [
                "idle_days",
                "date_last_engagement",
                "temperature_part_probability",
                "temperature_part_priority",
                "temperature_part_engagement",
                "temperature_part_deadline",
                "temperature_explanation",
            ]
        )
        if ids:
            self.browse(ids).invalidate_recordset(
                [
                    "temperature",
                    "temperature_score",
                    "is_neglected",
                    "temperature_at_close",
                    "temperature_at_age",
                ]
            )
            if logged:
                self.browse(ids).invalidate_recordset(["message_ids"])
        return written, logged

    @api.model
    def _ror_backfill_temperature_at_age(self):
        """Give the leads already past ``CALIBRATION_AGE_DAYS`` without a snapshot (created before the
        install, imported, or missed by the cron) the temperature they had at that age, set-wise:

        1. from the chatter's tracking of the temperature: the level set last on or before that day,
           else the level left by the first change after it;
        2. for the rest, the temperature model scored as of that day from the stored history (see
           ``_ror_temperature_calc_sql(history=True)``).

        Leads closed younger than that are left alone: the report uses their temperature at close.
        Returns the number of leads given a snapshot."""
        now = fields.Datetime.now()
        self.flush_model()
        self.env["mail.message"].flush_model(["model", "res_id", "date"])
        self.env["mail.tracking.value"].flush_model()
        candidates = SQL(
            "lead.create_date <= %s AND %s",
            now - timedelta(days=CALIBRATION_AGE_DAYS),
            SQL(snapshot_todo_sql("lead.")),  # the partial index's predicate: only those rows are read
        )
        tracked = self.env.execute_query(
            SQL(
                """
                WITH seen AS (
                    SELECT lead.id, %(level)s AS level FROM crm_lead lead WHERE %(candidates)s
                )
                UPDATE crm_lead lead SET temperature_at_age = seen.level
                  FROM seen WHERE seen.id = lead.id AND seen.level IS NOT NULL
             RETURNING lead.id
                """,
                level=self._ror_temperature_at_sql(
                    SQL("(lead.create_date + %s * INTERVAL '1 day')", CALIBRATION_AGE_DAYS)
                ),
                candidates=candidates,
            )
        )
        rebuilt = self.env.execute_query(
            SQL(
                """
                WITH calc AS MATERIALIZED (%(calc)s)
                UPDATE crm_lead lead SET temperature_at_age = calc.level_if_open
                  FROM calc WHERE calc.id = lead.id
             RETURNING lead.id
                """,
                calc=self._ror_temperature_calc_sql(candidates, now, history=True),
            )
        )
        ids = [row[0] for row in tracked + rebuilt]
        self.browse(ids).invalidate_recordset(["temperature_at_age"])
        _logger.info(
            "temperature at %s days: %s leads from their tracking, %s rebuilt from their history",
            CALIBRATION_AGE_DAYS,
            len(tracked),
            len(rebuilt),
        )
        return len(ids)

    def action_ror_backfill_temperature_at_age(self):
        """Managers: rebuild the missing 30-day snapshots now (the daily lead cron does it too)."""
        if not self.env.user.has_group("crm_ror.group_crm_ror_manager"):
            raise AccessError(self.env._("Only Return on Relationship managers can rebuild the snapshots."))
        # sudo: the snapshot is server-computed (users cannot write it); a manager asks for all leads
        count = self.sudo()._ror_backfill_temperature_at_age()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("%(count)s leads got their temperature at 30 days.", count=count),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------
    # Engagement
    # ------------------------------------------------------------------

    def _message_post_after_hook(self, message, msg_vals):
        res = super()._message_post_after_hook(message, msg_vals)
        if message.mail_activity_type_id and message.message_type == "notification":
            # sudo: a follower posting may not write the lead; the date is derived from his message
            self.sudo().write({"date_last_activity_done": message.date})
        elif self._is_customer_message(message):
            # sudo: the customer's own reply comes in as a share or public user
            self.sudo().write({"date_last_customer_message": message.date})
        return res

    @api.model
    def _is_customer_message(self, message):
        """Incoming email or public comment whose author is no internal user (an email with no known
        author is an outside sender's)."""
        if message.subtype_id.internal or message.message_type not in ("email", "comment"):
            return False
        if not message.author_id:
            return message.message_type == "email"
        # sudo: whether the author is an internal user decides the kind of message; nothing is shown.
        return (
            not message.author_id.sudo()
            .with_context(active_test=False)
            .user_ids.filtered(lambda u: not u.share)
        )

    def _refresh_engagement_dates(self):
        """Catch up the engagement dates from chatter messages newer than the last run, set-wise.

        The first run reads the whole history (messages from before the install, or imported)."""
        params = self.env["ir.config_parameter"].sudo()  # sudo: a technical watermark of this cron
        since = int(params.get_param(ENGAGEMENT_WATERMARK, 0))
        self.flush_model(["date_last_activity_done", "date_last_customer_message"])
        [(upto,)] = self.env.execute_query(SQL("SELECT COALESCE(MAX(id), 0) FROM mail_message"))
        window = SQL("msg.model = 'crm.lead' AND msg.id > %s AND msg.id <= %s", since, upto)
        rows = self.env.execute_query(
            SQL(
                """
                UPDATE crm_lead lead SET date_last_activity_done = done.last_date
                  FROM (SELECT msg.res_id, MAX(msg.date) AS last_date
                          FROM mail_message msg
                         WHERE %s AND msg.message_type = 'notification' AND msg.mail_activity_type_id IS NOT NULL
                         GROUP BY msg.res_id) done
                 WHERE done.res_id = lead.id AND lead.active
                   AND (lead.date_last_activity_done IS NULL OR lead.date_last_activity_done < done.last_date)
             RETURNING lead.id
                """,
                window,
            )
        )
        rows += self.env.execute_query(
            SQL(
                """
                UPDATE crm_lead lead SET date_last_customer_message = incoming.last_date
                  FROM (SELECT msg.res_id, MAX(msg.date) AS last_date
                          FROM mail_message msg
                     LEFT JOIN mail_message_subtype subtype ON subtype.id = msg.subtype_id
                         WHERE %s
                           AND NOT COALESCE(subtype.internal, FALSE)
                           AND ((msg.message_type = 'email' AND msg.author_id IS NULL)
                                OR (msg.message_type IN ('email', 'comment') AND msg.author_id IS NOT NULL
                                    AND NOT EXISTS (SELECT 1 FROM res_users usr
                                                     WHERE usr.partner_id = msg.author_id AND NOT usr.share)))
                         GROUP BY msg.res_id) incoming
                 WHERE incoming.res_id = lead.id AND lead.active
                   AND (lead.date_last_customer_message IS NULL OR lead.date_last_customer_message < incoming.last_date)
             RETURNING lead.id
                """,
                window,
            )
        )
        params.set_param(ENGAGEMENT_WATERMARK, upto)
        ids = {row[0] for row in rows}
        self.browse(sorted(ids)).invalidate_recordset(
            ["date_last_activity_done", "date_last_customer_message"]
        )
        return ids

    # ------------------------------------------------------------------
    # The daily lead cron
    # ------------------------------------------------------------------

    @api.model
    def _cron_update_temperature(self, chunk_size=TEMPERATURE_CHUNK):
        """The daily lead cron: leads of departed salespeople handed over, engagement dates caught up,
        temperature / neglect / calibration snapshot recomputed, then the nurture rules applied.

        The temperature pass walks the leads by id range, one UPDATE per chunk and a commit after each
        (outside tests), so no lock is held across the table and a failure keeps the finished chunks."""
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        self._cron_reassign_departed_leads()
        self._refresh_engagement_dates()
        if auto_commit:
            # the cron commits after each step and chunk (outside tests), as stock crm's crons do
            self.env.cr.commit()  # pylint: disable=invalid-commit
        now = fields.Datetime.now()
        [(low, high)] = self.env.execute_query(SQL("SELECT MIN(id), MAX(id) FROM crm_lead"))
        written = logged = 0
        tracking = self._ror_tracking_values()
        if low is not None:
            for start in range(low, high + 1, chunk_size):
                chunk_written, chunk_logged = self._ror_recompute_temperature(
                    SQL(
                        """lead.id >= %s AND lead.id < %s
                           AND ((lead.active AND NOT EXISTS (SELECT 1 FROM crm_stage won
                                                              WHERE won.id = lead.stage_id AND won.is_won))
                                OR lead.temperature IS NOT NULL)""",
                        start,
                        start + chunk_size,
                    ),
                    now=now,
                    tracking=tracking,
                )
                written += chunk_written
                logged += chunk_logged
                if auto_commit:
                    # one chunk per transaction: no lock across the table, finished chunks kept on failure
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        _logger.info("lead temperature: %s leads updated, %s level changes logged", written, logged)
        # the leads already past the snapshot's age without one (before the install, a missed window)
        self._ror_backfill_temperature_at_age()
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env["crm.ror.nurture.rule"]._cron_apply_nurture_rules()
        return written, logged

    # ------------------------------------------------------------------
    # Leads of departed salespeople
    # ------------------------------------------------------------------

    @api.model
    def _cron_reassign_departed_leads(self):
        """Open leads of departed salespeople go to their team's leader, else to their company's
        fallback user. Returns ``(moved leads, leads nobody could take)``; the latter are logged and
        found with the "Salesperson Departed" filter."""
        departed = self._ror_departed_user_ids()
        if not departed:
            return self.browse(), self.browse()
        leads = self.with_context(active_test=False).search(
            [*self._open_leads_domain(), ("user_id", "in", departed)], order="id"
        )
        departed_set = set(departed)
        by_user = defaultdict(list)
        stranded = self.browse()
        for lead in leads:
            target = lead._ror_handover_user(departed_set)
            if target:
                by_user[target].append(lead.id)
            else:
                stranded |= lead
        moved = self.browse()
        for user, lead_ids in by_user.items():
            group = self.browse(lead_ids)
            group._reassign_to(user, self.env._("its salesperson left the sales teams"))
            moved |= group
        if stranded:
            _logger.warning(
                "%s open leads of departed salespeople have no active team leader nor fallback user: %s",
                len(stranded),
                stranded[:20].ids,
            )
        return moved, stranded

    def _ror_handover_user(self, departed_ids):
        """The team leader when active and still in place, else the company's fallback user."""
        self.ensure_one()
        leader = self.team_id.user_id
        if leader and leader.active and leader.id not in departed_ids:
            return leader
        fallback = (self.company_id or self.env.company).crm_ror_lead_fallback_user_id
        if fallback and fallback.active and fallback.id not in departed_ids:
            return fallback
        return self.env["res.users"]

    def _reassign_to(self, user, reason, keep_team=True):
        """Give these leads to ``user``, set-wise: one ORM write per team, then one statement that
        moves the previous owner's open activities, subscribes ``user`` and logs one chatter message
        per lead saying who had it and why, with the salesperson's tracking value.

        ``keep_team`` stops stock crm from moving them to the new owner's team."""
        if not self:
            return
        previous = {lead.id: lead.user_id for lead in self}
        names = {
            lead.id: lead.user_id.with_context(active_test=False).name or self.env._("nobody")
            for lead in self
        }
        # tracking_disable: stock would log and subscribe lead by lead; the statement below does both
        for team, leads in self.grouped("team_id").items():
            vals = {"user_id": user.id}
            if keep_team:
                vals["team_id"] = team.id
            leads.with_context(tracking_disable=True).write(vals)
        body = Markup("<p>%s</p>")
        bodies = [
            body
            % self.env._(
                "Reassigned from %(old)s to %(new)s: %(reason)s.",
                old=names[lead.id],
                new=user.name,
                reason=reason,
            )
            for lead in self
        ]
        self.env["mail.activity"].flush_model(["res_model", "res_id", "user_id"])
        self.env["mail.followers"].flush_model()
        tracking = self._ror_tracking_values("user_id")
        now = fields.Datetime.now()
        default_subtypes = self.env["mail.message.subtype"].default_subtypes(self._name)[0]
        self.env.execute_query(
            SQL(
                """
                WITH moved AS (
                    SELECT * FROM unnest(%(ids)s::int[], %(old_ids)s::int[], %(old_names)s::varchar[],
                                         %(bodies)s::text[]) AS moved(id, old_user, old_name, body)
                ),
                activity AS (
                    UPDATE mail_activity act
                       SET user_id = %(user)s, user_tz = %(tz)s, write_uid = %(uid)s, write_date = %(now)s
                      FROM moved
                     WHERE act.res_model = 'crm.lead' AND act.res_id = moved.id AND act.user_id = moved.old_user
                 RETURNING act.id
                ),
                follower AS (
                    INSERT INTO mail_followers (res_model, res_id, partner_id)
                    SELECT 'crm.lead', moved.id, %(partner)s FROM moved
                        ON CONFLICT DO NOTHING
                 RETURNING id
                ),
                subscribed AS (
                    INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id, mail_message_subtype_id)
                    SELECT follower.id, subtype FROM follower, unnest(%(subtypes)s::int[]) subtype
                ),
                message AS (
                    INSERT INTO mail_message (model, res_id, message_type, subtype_id, author_id, email_from,
                                              reply_to, message_id, body, is_internal, email_add_signature,
                                              date, create_uid, create_date, write_uid, write_date)
                    SELECT 'crm.lead', moved.id, 'notification', %(subtype)s, %(author)s, %(email_from)s,
                           %(reply_to)s, '<' || gen_random_uuid() || '-crm_ror-handover@localhost>', moved.body,
                           TRUE, FALSE, %(now)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM moved
                 RETURNING id, res_id
                )
                INSERT INTO mail_tracking_value (field_id, mail_message_id, old_value_integer, new_value_integer,
                                                 old_value_char, new_value_char,
                                                 create_uid, create_date, write_uid, write_date)
                SELECT %(field)s, message.id, moved.old_user, %(user)s, moved.old_name, %(user_name)s,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM message JOIN moved ON moved.id = message.res_id
                """,
                ids=self.ids,
                old_ids=[previous[lead.id].id or None for lead in self],
                old_names=[previous[lead.id].with_context(active_test=False).name or "" for lead in self],
                bodies=[str(text) for text in bodies],
                user=user.id,
                tz=user.tz or None,
                partner=user.partner_id.id,
                user_name=user.name,
                subtypes=default_subtypes.ids,
                uid=self.env.uid,
                now=now,
                **tracking,
            )
        )
        self.env["mail.activity"].invalidate_model(["user_id", "user_tz", "write_uid", "write_date"])
        self.env["mail.followers"].invalidate_model()
        self.invalidate_recordset(
            ["message_ids", "message_follower_ids", "message_partner_ids", "activity_ids"]
        )
