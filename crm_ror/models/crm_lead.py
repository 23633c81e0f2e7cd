from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, split_every

from ..engine import temperature as temperature_engine

TEMPERATURES = [
    (temperature_engine.HOT, "Hot"),
    (temperature_engine.WARM, "Warm"),
    (temperature_engine.COLD, "Cold"),
]
DEFAULT_BLACK_HOLE_DAYS = 30


class CrmLead(models.Model):
    _inherit = "crm.lead"

    temperature = fields.Selection(
        TEMPERATURES,
        compute="_compute_temperature",
        store=True,
        index=True,
        tracking=True,
        help="HOT / WARM / COLD from Odoo's predictive probability, the priority, engagement recency and the "
        "expected closing date, cooled by idle days (thresholds on the sales team). Empty on closed leads.",
    )
    temperature_score = fields.Float(
        compute="_compute_temperature", store=True, aggregator="avg", digits=(16, 1)
    )
    idle_days = fields.Integer(
        compute="_compute_temperature",
        store=True,
        aggregator="avg",
        help="Days since the last engagement: activity done, customer message or stage change.",
    )
    is_neglected = fields.Boolean(
        "Neglected",
        compute="_compute_temperature",
        store=True,
        help="Open lead idle at least the sales team's 'Neglected After' days (when set).",
    )
    temperature_manual = fields.Selection(
        TEMPERATURES,
        "Manual Temperature",
        tracking=True,
        copy=False,
        help="Overrides the computed temperature until the date below (or for good when empty).",
    )
    temperature_manual_until = fields.Date("Manual Temperature Until", copy=False)
    date_last_activity_done = fields.Datetime("Last Activity Done", readonly=True, copy=False)
    date_last_customer_message = fields.Datetime("Last Customer Message", readonly=True, copy=False)
    date_last_engagement = fields.Datetime(
        "Last Engagement", compute="_compute_date_last_engagement", store=True, copy=False
    )

    @api.depends(
        "create_date", "date_last_stage_update", "date_last_activity_done", "date_last_customer_message"
    )
    def _compute_date_last_engagement(self):
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

    def _temperature_is_open(self):
        self.ensure_one()
        return self.active and not self.stage_id.is_won and self.probability < 100

    @api.depends(
        "active",
        "stage_id",
        "probability",
        "automated_probability",
        "priority",
        "date_deadline",
        "date_last_engagement",
        "temperature_manual",
        "temperature_manual_until",
        "team_id.temperature_hot_threshold",
        "team_id.temperature_warm_threshold",
        "team_id.temperature_decay_days",
        "team_id.black_hole_idle_days",
        "team_id.temperature_use_automated_probability",
    )
    def _compute_temperature(self):
        # time-based inputs (idle days, decay, override expiry) move on daily: _cron_update_temperature
        now = fields.Datetime.now()
        today = now.date()
        params = {}
        for lead in self:
            if not lead._temperature_is_open():
                lead.temperature = False
                lead.temperature_score = 0.0
                lead.idle_days = 0
                lead.is_neglected = False
                continue
            team = lead.team_id
            if team.id not in params:
                params[team.id] = team._temperature_params()
            idle = temperature_engine.idle_days(lead.date_last_engagement, now)
            probability = (
                lead.automated_probability if team.temperature_use_automated_probability else lead.probability
            )
            level, value = temperature_engine.temperature(
                probability,
                lead.priority,
                idle,
                lead.date_deadline,
                today,
                params[team.id],
                manual=lead.temperature_manual,
                until=lead.temperature_manual_until,
            )
            lead.temperature = level
            lead.temperature_score = value
            lead.idle_days = idle
            limit = team.black_hole_idle_days if team else DEFAULT_BLACK_HOLE_DAYS
            lead.is_neglected = bool(limit) and idle >= limit

    def _open_leads_domain(self):
        return [("active", "=", True), ("probability", "<", 100), ("stage_id.is_won", "=", False)]

    # ------------------------------------------------------------------
    # Engagement events
    # ------------------------------------------------------------------

    def _message_post_after_hook(self, message, msg_vals):
        res = super()._message_post_after_hook(message, msg_vals)
        if message.mail_activity_type_id and message.message_type == "notification":
            self.sudo().write({"date_last_activity_done": message.date})
        elif self._is_customer_message(message):
            self.sudo().write({"date_last_customer_message": message.date})
        return res

    @api.model
    def _is_customer_message(self, message):
        """Incoming email, or a public comment whose author is no internal user."""
        if message.subtype_id.internal:
            return False
        if message.message_type == "email":
            return True
        if message.message_type != "comment" or not message.author_id:
            return False
        return (
            not message.author_id.sudo()
            .with_context(active_test=False)
            .user_ids.filtered(lambda u: not u.share)
        )

    def _refresh_engagement_dates(self):
        """Catch up the engagement dates from the chatter, set-wise (also for history before install)."""
        self.flush_model(["date_last_activity_done", "date_last_customer_message"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead lead SET date_last_activity_done = done.last_date
                  FROM (SELECT msg.res_id, MAX(msg.date) AS last_date
                          FROM mail_message msg
                         WHERE msg.model = 'crm.lead'
                           AND msg.message_type = 'notification'
                           AND msg.mail_activity_type_id IS NOT NULL
                         GROUP BY msg.res_id) done
                 WHERE done.res_id = lead.id AND lead.active
                   AND (lead.date_last_activity_done IS NULL OR lead.date_last_activity_done < done.last_date)
             RETURNING lead.id
                """
            )
        )
        ids = {row[0] for row in self.env.cr.fetchall()}
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead lead SET date_last_customer_message = incoming.last_date
                  FROM (SELECT msg.res_id, MAX(msg.date) AS last_date
                          FROM mail_message msg
                     LEFT JOIN mail_message_subtype subtype ON subtype.id = msg.subtype_id
                         WHERE msg.model = 'crm.lead'
                           AND NOT COALESCE(subtype.internal, FALSE)
                           AND (msg.message_type = 'email'
                                OR (msg.message_type = 'comment' AND msg.author_id IS NOT NULL
                                    AND NOT EXISTS (SELECT 1 FROM res_users usr
                                                     WHERE usr.partner_id = msg.author_id AND NOT usr.share)))
                         GROUP BY msg.res_id) incoming
                 WHERE incoming.res_id = lead.id AND lead.active
                   AND (lead.date_last_customer_message IS NULL OR lead.date_last_customer_message < incoming.last_date)
             RETURNING lead.id
                """
            )
        )
        ids.update(row[0] for row in self.env.cr.fetchall())
        self.browse(sorted(ids)).invalidate_recordset(
            ["date_last_activity_done", "date_last_customer_message"]
        )

    @api.model
    def _cron_update_temperature(self, batch_size=2000):
        """Daily: catch up engagement dates, then recompute idle days, decay and expired overrides."""
        self._refresh_engagement_dates()
        lead_ids = self.search(self._open_leads_domain()).ids
        # the engagement date too: dates imported or fixed in SQL bypass the ORM's triggers
        fnames = ["date_last_engagement", "temperature", "temperature_score", "idle_days", "is_neglected"]
        for batch_ids in split_every(batch_size, lead_ids):
            leads = self.browse(batch_ids)
            for fname in fnames:
                self.env.add_to_compute(self._fields[fname], leads)
            # the ORM flushes the recomputed values with batched UPDATEs; changes are tracked
            leads.flush_recordset(fnames)
            self.env.invalidate_all()

    # ------------------------------------------------------------------
    # Leads of departed salespeople
    # ------------------------------------------------------------------

    @api.model
    def _cron_reassign_departed_leads(self):
        """Open leads owned by archived users go to their team's leader (when active)."""
        self.flush_model(["user_id", "team_id", "active", "probability", "stage_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT lead.id, team.user_id
                  FROM crm_lead lead
                  JOIN res_users owner ON owner.id = lead.user_id
                  JOIN crm_team team ON team.id = lead.team_id
                  JOIN res_users leader ON leader.id = team.user_id
             LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE lead.active AND lead.probability < 100 AND NOT COALESCE(stage.is_won, FALSE)
                   AND NOT owner.active AND leader.active AND leader.id != owner.id
                """
            )
        )
        by_leader = defaultdict(list)
        for lead_id, leader_id in self.env.cr.fetchall():
            by_leader[leader_id].append(lead_id)
        moved = self.browse()
        for leader_id, lead_ids in by_leader.items():
            leads = self.browse(lead_ids)
            leads._reassign_to(
                self.env["res.users"].browse(leader_id), self.env._("its salesperson left the company")
            )
            moved |= leads
        return moved

    def _reassign_to(self, user, reason):
        """Give these leads to ``user`` in one write, with a chatter note saying who had them and why."""
        if not self:
            return
        previous = {
            lead.id: lead.user_id.with_context(active_test=False).name or self.env._("nobody")
            for lead in self
        }
        self.with_context(mail_auto_subscribe_no_notify=True).write({"user_id": user.id})
        body = Markup("<p>%s</p>")
        self._message_log_batch(
            bodies={
                lead.id: body
                % self.env._(
                    "Reassigned from %(old)s to %(new)s: %(reason)s.",
                    old=previous[lead.id],
                    new=user.name,
                    reason=reason,
                )
                for lead in self
            }
        )
