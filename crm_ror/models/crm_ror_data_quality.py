from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..engine import data_quality as engine

# Key fields whose tracked changes date a customer's data (all tracked by mail on res.partner).
TRACKED_FIELDS = ("email", "phone", "vat", "user_id", "contact_address_inline")


class CrmRorDataQuality(models.Model):
    """Completeness and age of one customer's data in one company.

    How it works:
        * ``_crm_ror_recompute`` reads, in one query per company, which weighted fields each customer
          has filled (email, phone, address, tax ID, salesperson, value segment), when a key field last
          changed (mail tracking values) and when the row was last verified; ``engine.data_quality``
          turns these into the completeness, the age and the stale flag; one statement writes all rows;
        * ``action_verify`` stamps today's date: the data is fresh again until the limit of the
          customer's sales team (``crm.ror.data.quality.policy``) or of the company passes.
    """

    _name = "crm.ror.data.quality"
    _description = "Customer Data Quality"
    _order = "is_stale desc, completeness, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade", readonly=True)
    user_id = fields.Many2one("res.users", "Salesperson", index=True, readonly=True)
    team_id = fields.Many2one("crm.team", "Sales team", readonly=True, help="The salesperson's sales team.")
    completeness = fields.Float("Completeness (%)", readonly=True, aggregator="avg")
    is_complete = fields.Boolean("Complete", readonly=True)
    missing_fields = fields.Char("Missing", readonly=True)
    last_change_date = fields.Date("Last change", readonly=True, help="Last tracked change of a key field.")
    verified_date = fields.Date("Verified on", readonly=True)
    age_days = fields.Integer("Age (days)", readonly=True, aggregator="avg")
    freshness_days = fields.Integer("Freshness limit (days)", readonly=True)
    is_stale = fields.Boolean("Stale", readonly=True)
    computed_at = fields.Date("Computed on", readonly=True)

    _sql_constraints = [
        (
            "partner_company_uniq",
            "unique(partner_id, company_id)",
            "One data-quality row per customer and company.",
        )
    ]

    @api.model
    def action_recompute(self):
        """Button: schedule the data-quality cron (customers and leads) and return at once."""
        if not self.env.user.has_group("crm_ror.group_crm_ror_manager"):
            raise AccessError(
                self.env._("Only Return on Relationship administrators can recompute the data quality.")
            )
        # sudo: triggering a scheduled action needs Settings rights; the manager group was checked above.
        self.env.ref("crm_ror.ir_cron_crm_ror_data_quality").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._(
                    "The data quality of customers and leads is being recomputed in the background. "
                    "Reload the page in a few minutes."
                ),
                "type": "info",
            },
        }

    @api.model
    def _cron_recompute(self):
        """Nightly: customers and open leads of every company."""
        companies = self.env["res.company"].search([])
        self._crm_ror_recompute(companies)
        self.env["crm.ror.lead.data.quality"]._crm_ror_recompute(companies)

    @api.model
    def _crm_ror_rows(self, company):
        """One dict per customer of the company with its filled fields and key dates."""
        field_ids = [self.env["ir.model.fields"]._get("res.partner", name).id for name in TRACKED_FIELDS]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id AS partner_id, p.user_id, team.id AS team_id, p.create_date::date AS created,
                       COALESCE(p.email, '') <> '' AS email,
                       COALESCE(p.phone, '') <> '' OR COALESCE(p.mobile, '') <> '' AS phone,
                       COALESCE(p.street, '') <> '' AND COALESCE(p.city, '') <> '' AND p.country_id IS NOT NULL
                           AS address,
                       COALESCE(p.vat, '') <> '' AS vat,
                       p.user_id IS NOT NULL AS salesperson,
                       prof.segment_id IS NOT NULL AS segment,
                       (SELECT max(m.date)::date
                          FROM mail_message m
                          JOIN mail_tracking_value tv ON tv.mail_message_id = m.id
                         WHERE m.model = 'res.partner' AND m.res_id = p.id AND tv.field_id = ANY(%(fields)s)
                       ) AS last_change,
                       dq.verified_date,
                       COALESCE(pol.freshness_days, %(default_days)s) AS freshness_days
                  FROM res_partner p
             LEFT JOIN crm_ror_customer_profile prof ON prof.partner_id = p.id AND prof.company_id = %(company)s
             LEFT JOIN crm_ror_data_quality dq ON dq.partner_id = p.id AND dq.company_id = %(company)s
             -- Customers carry no sales team: the salesperson's first team in the company is theirs.
             LEFT JOIN LATERAL (
                    SELECT tm.crm_team_id AS id
                      FROM crm_team_member tm
                      JOIN crm_team t ON t.id = tm.crm_team_id
                     WHERE tm.user_id = p.user_id AND tm.active AND t.active
                       AND (t.company_id IS NULL OR t.company_id = %(company)s)
                  ORDER BY tm.create_date, tm.id
                     LIMIT 1
                  ) team ON TRUE
             LEFT JOIN crm_ror_data_quality_policy pol ON pol.team_id = team.id
                 WHERE p.active AND p.id = p.commercial_partner_id
                   AND (p.company_id IS NULL OR p.company_id = %(company)s)
                   AND (p.customer_rank > 0 OR prof.id IS NOT NULL)
                """,
                fields=field_ids,
                default_days=company.crm_ror_dq_freshness_days,
                company=company.id,
            )
        )
        return self.env.cr.dictfetchall()

    @api.model
    def _crm_ror_score_rows(self, rows, key, company, weights, labels, today):
        """One VALUES row per record (customer or lead): completeness, missing fields, age, staleness."""
        values = []
        for row in rows:
            filled = {name: row[name] for name in weights}
            score = engine.completeness(filled, weights) or 0.0
            age = engine.age_days(today, row["last_change"], row["verified_date"], row["created"])
            values.append(
                SQL(
                    "(%s, %s, %s::int, %s::int, %s::float, %s, %s::varchar, %s::date, %s, %s, %s, %s::date)",
                    row[key],
                    company.id,
                    row["user_id"],
                    row["team_id"],
                    score,
                    score >= 100.0,
                    ", ".join(labels[name] for name in engine.missing(filled, weights)) or None,
                    row["last_change"],
                    age or 0,
                    row["freshness_days"],
                    engine.is_stale(age, row["freshness_days"]),
                    today,
                )
            )
        return values

    @api.model
    def _crm_ror_recompute(self, companies, today=None):
        today = today or fields.Date.context_today(self)
        for company in companies:
            weights = company._crm_ror_dq_weights()
            labels = self._crm_ror_field_labels()
            rows = self._crm_ror_rows(company)
            values = self._crm_ror_score_rows(rows, "partner_id", company, weights, labels, today)
            self.env.cr.execute(
                SQL(
                    "DELETE FROM crm_ror_data_quality WHERE company_id = %s AND partner_id != ALL(%s)",
                    company.id,
                    [row["partner_id"] for row in rows],
                )
            )
            if values:
                self.env.cr.execute(
                    SQL(
                        """
                        INSERT INTO crm_ror_data_quality
                               (partner_id, company_id, user_id, team_id, completeness, is_complete, missing_fields,
                                last_change_date, age_days, freshness_days, is_stale, computed_at,
                                create_uid, create_date, write_uid, write_date)
                        SELECT v.*, %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
                          FROM (VALUES %(values)s) AS v
                        ON CONFLICT (partner_id, company_id) DO UPDATE SET
                               user_id = EXCLUDED.user_id, team_id = EXCLUDED.team_id,
                               completeness = EXCLUDED.completeness, is_complete = EXCLUDED.is_complete,
                               missing_fields = EXCLUDED.missing_fields, last_change_date = EXCLUDED.last_change_date,
                               age_days = EXCLUDED.age_days, freshness_days = EXCLUDED.freshness_days,
                               is_stale = EXCLUDED.is_stale, computed_at = EXCLUDED.computed_at,
                               write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                        """,
                        uid=self.env.uid,
                        values=SQL(", ").join(values),
                    )
                )
        self.invalidate_model()

    @api.model
    def _crm_ror_field_labels(self):
        return {
            "email": self.env._("Email"),
            "phone": self.env._("Phone"),
            "address": self.env._("Address"),
            "vat": self.env._("Tax ID"),
            "salesperson": self.env._("Salesperson"),
            "segment": self.env._("Segment"),
        }

    def action_verify(self):
        """The salesperson checked this data: it is fresh from today."""
        self.partner_id.check_access("write")
        # The rows are read-only to users: verifying stamps them on the user's behalf.
        self.sudo().write(
            {"verified_date": fields.Date.context_today(self), "age_days": 0, "is_stale": False}
        )

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }
