from odoo import api, fields, models
from odoo.tools import SQL

from .crm_lead import TEMPERATURES


class CrmRorNurtureRule(models.Model):
    _name = "crm.ror.nurture.rule"
    _description = "Lead Nurture Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
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
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        required=True,
        domain="['|', ('res_model', '=', False), ('res_model', '=', 'crm.lead')]",
    )
    summary = fields.Char(translate=True)
    note = fields.Html()
    delay_days = fields.Integer(
        "Due In (Days)", default=0, help="Days between the rule firing and the activity's deadline."
    )
    log_ids = fields.One2many("crm.ror.nurture.log", "rule_id", "Activities Created")
    log_count = fields.Integer(compute="_compute_log_count")

    _sql_constraints = [
        (
            "min_idle_days_positive",
            "CHECK(min_idle_days >= 0)",
            "The idle days of a nurture rule cannot be negative.",
        ),
        (
            "delay_days_positive",
            "CHECK(delay_days >= 0)",
            "The due delay of a nurture rule cannot be negative.",
        ),
    ]

    def _compute_log_count(self):
        counts = dict(
            self.env["crm.ror.nurture.log"]._read_group(
                [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.log_count = counts.get(rule, 0)

    def action_view_leads(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Leads nurtured by %(rule)s", rule=self.name),
            "res_model": "crm.lead",
            "view_mode": "list,form",
            "domain": [("id", "in", self.log_ids.lead_id.ids)],
            "context": {"active_test": False},
        }

    def _matching_leads(self):
        """``[(lead_id, user_id)]``: open leads the rule applies to that it has not nurtured yet."""
        self.ensure_one()
        conditions = [
            SQL("lead.active AND lead.probability < 100 AND NOT COALESCE(stage.is_won, FALSE)"),
            SQL("lead.idle_days >= %s", self.min_idle_days),
            SQL(
                "NOT EXISTS (SELECT 1 FROM crm_ror_nurture_log log WHERE log.rule_id = %s AND log.lead_id = lead.id)",
                self.id,
            ),
        ]
        if self.team_id:
            conditions.append(SQL("lead.team_id = %s", self.team_id.id))
        if self.company_id:
            conditions.append(SQL("lead.company_id = %s", self.company_id.id))
        if self.temperature:
            conditions.append(SQL("lead.temperature = %s", self.temperature))
        # owner when active, else the team leader when active
        self.env.cr.execute(
            SQL(
                """
                SELECT lead.id,
                       CASE WHEN owner.active THEN owner.id WHEN leader.active THEN leader.id END
                  FROM crm_lead lead
             LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
             LEFT JOIN res_users owner ON owner.id = lead.user_id
             LEFT JOIN crm_team team ON team.id = lead.team_id
             LEFT JOIN res_users leader ON leader.id = team.user_id
                 WHERE %s
              ORDER BY lead.id
                """,
                SQL(" AND ").join(conditions),
            )
        )
        return self.env.cr.fetchall()

    @api.model
    def _cron_apply_nurture_rules(self):
        """Schedule each rule's activity once per matching lead; the log makes it exactly once across runs."""
        self.env["crm.lead"].flush_model(["idle_days", "temperature", "active", "probability", "stage_id"])
        self.env["crm.ror.nurture.log"].flush_model()
        res_model_id = self.env["ir.model"]._get_id("crm.lead")
        today = fields.Date.context_today(self)
        created = self.env["crm.ror.nurture.log"]
        for rule in self.search([]):
            matches = rule._matching_leads()
            if not matches:
                continue
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
                            "summary": rule.summary or rule.name,
                            "note": rule.note,
                            "user_id": user_id or self.env.user.id,
                            "date_deadline": fields.Date.add(today, days=rule.delay_days),
                        }
                        for lead_id, user_id in matches
                    ]
                )
            )
            created |= created.sudo().create(
                [
                    {"rule_id": rule.id, "lead_id": lead_id, "activity_id": activity.id}
                    for (lead_id, _user_id), activity in zip(matches, activities, strict=True)
                ]
            )
        return created
