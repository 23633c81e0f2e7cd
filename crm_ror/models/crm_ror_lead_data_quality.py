from odoo import api, fields, models
from odoo.tools import SQL

# Key fields of a lead whose tracked changes date its data (all tracked by crm).
LEAD_TRACKED_FIELDS = ("email_from", "phone", "partner_id", "partner_name", "contact_name", "user_id")
# The company's completeness weights that apply to a lead (a lead has no tax ID or value segment).
LEAD_WEIGHTS = ("email", "phone", "address", "salesperson")


class CrmRorLeadDataQuality(models.Model):
    """Completeness and age of one open lead's data: the lead counterpart of ``crm.ror.data.quality``,
    recomputed the same way (one query, ``engine.data_quality``, one upsert) with the lead's own sales team
    and its freshness policy."""

    _name = "crm.ror.lead.data.quality"
    _description = "Lead Data Quality"
    _order = "is_stale desc, completeness, id"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead", "Lead", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade", readonly=True)
    user_id = fields.Many2one("res.users", "Salesperson", index=True, readonly=True)
    team_id = fields.Many2one("crm.team", "Sales team", readonly=True)
    completeness = fields.Float("Completeness (%)", readonly=True, aggregator="avg")
    is_complete = fields.Boolean("Complete", readonly=True)
    missing_fields = fields.Char("Missing", readonly=True)
    last_change_date = fields.Date("Last change", readonly=True, help="Last tracked change of a key field.")
    verified_date = fields.Date("Verified on", readonly=True)
    age_days = fields.Integer("Age (days)", readonly=True, aggregator="avg")
    freshness_days = fields.Integer("Freshness limit (days)", readonly=True)
    is_stale = fields.Boolean("Stale", readonly=True)
    computed_at = fields.Date("Computed on", readonly=True)

    _sql_constraints = [("lead_uniq", "unique(lead_id)", "One data-quality row per lead.")]

    @api.model
    def action_recompute(self):
        """Button: the one data-quality cron scores customers and leads (manager only)."""
        return self.env["crm.ror.data.quality"].action_recompute()

    @api.model
    def _crm_ror_recompute(self, companies, today=None):
        today = today or fields.Date.context_today(self)
        field_ids = [self.env["ir.model.fields"]._get("crm.lead", name).id for name in LEAD_TRACKED_FIELDS]
        labels = self.env["crm.ror.data.quality"]._crm_ror_field_labels()
        self.env.flush_all()
        for company in companies:
            weights = {name: company._crm_ror_dq_weights()[name] for name in LEAD_WEIGHTS}
            self.env.cr.execute(
                SQL(
                    """
                    SELECT l.id AS lead_id, l.user_id, l.team_id, l.create_date::date AS created,
                           COALESCE(l.email_from, '') <> '' AS email,
                           COALESCE(l.phone, '') <> '' AS phone,
                           COALESCE(l.street, '') <> '' AND COALESCE(l.city, '') <> '' AND l.country_id IS NOT NULL
                               AS address,
                           l.user_id IS NOT NULL AS salesperson,
                           (SELECT max(m.date)::date
                              FROM mail_message m
                              JOIN mail_tracking_value tv ON tv.mail_message_id = m.id
                             WHERE m.model = 'crm.lead' AND m.res_id = l.id AND tv.field_id = ANY(%(fields)s)
                           ) AS last_change,
                           dq.verified_date,
                           COALESCE(pol.freshness_days, %(default_days)s) AS freshness_days
                      FROM crm_lead l
                      JOIN crm_stage s ON s.id = l.stage_id
                 LEFT JOIN crm_ror_lead_data_quality dq ON dq.lead_id = l.id
                 LEFT JOIN crm_ror_data_quality_policy pol ON pol.team_id = l.team_id
                     WHERE l.active AND s.is_won IS NOT TRUE AND l.company_id = %(company)s
                    """,
                    fields=field_ids,
                    default_days=company.crm_ror_dq_freshness_days,
                    company=company.id,
                )
            )
            rows = self.env.cr.dictfetchall()
            values = self.env["crm.ror.data.quality"]._crm_ror_score_rows(
                rows, "lead_id", company, weights, labels, today
            )
            self.env.cr.execute(
                SQL(
                    "DELETE FROM crm_ror_lead_data_quality WHERE company_id = %s AND lead_id != ALL(%s)",
                    company.id,
                    [row["lead_id"] for row in rows],
                )
            )
            if values:
                self.env.cr.execute(
                    SQL(
                        """
                        INSERT INTO crm_ror_lead_data_quality
                               (lead_id, company_id, user_id, team_id, completeness, is_complete, missing_fields,
                                last_change_date, age_days, freshness_days, is_stale, computed_at,
                                create_uid, create_date, write_uid, write_date)
                        SELECT v.*, %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
                          FROM (VALUES %(values)s) AS v
                        ON CONFLICT (lead_id) DO UPDATE SET
                               company_id = EXCLUDED.company_id, user_id = EXCLUDED.user_id,
                               team_id = EXCLUDED.team_id, completeness = EXCLUDED.completeness,
                               is_complete = EXCLUDED.is_complete, missing_fields = EXCLUDED.missing_fields,
                               last_change_date = EXCLUDED.last_change_date, age_days = EXCLUDED.age_days,
                               freshness_days = EXCLUDED.freshness_days, is_stale = EXCLUDED.is_stale,
                               computed_at = EXCLUDED.computed_at, write_uid = EXCLUDED.write_uid,
                               write_date = EXCLUDED.write_date
                        """,
                        uid=self.env.uid,
                        values=SQL(", ").join(values),
                    )
                )
        self.invalidate_model()

    def action_verify(self):
        """The salesperson checked this lead's data: it is fresh from today."""
        self.lead_id.check_access("write")
        # The rows are read-only to users: verifying stamps them on the user's behalf.
        self.sudo().write(
            {"verified_date": fields.Date.context_today(self), "age_days": 0, "is_stale": False}
        )

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
        }
