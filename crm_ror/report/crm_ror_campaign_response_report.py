from odoo import fields, models
from odoo.tools import SQL

from ..engine.campaign import Z_95


class CrmRorCampaignResponseReport(models.Model):
    """Response of contacted customers per company, value segment (when targeted), channel and number of
    touches, over every campaign whose responses were computed: contacts, responders, the rate with its
    Wilson 95 % interval, revenue, margin, contact cost and ROMI on the contact cost (fixed campaign
    costs belong to no cell). Rates, intervals and ROMI are per row and never summed."""

    _name = "crm.ror.campaign.response.report"
    _description = "Campaign Response by Segment and Channel"
    _auto = False
    _order = "company_id, channel, segment_id, touches"
    _depends = {
        "crm.ror.campaign.target": [
            "campaign_id",
            "company_id",
            "segment_id",
            "channel",
            "touches",
            "is_control",
            "responded",
            "revenue",
            "margin",
            "cost",
        ],
        "utm.campaign": ["crm_ror_refreshed_at"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    segment_id = fields.Many2one("crm.ror.segment", "Segment", readonly=True)
    channel = fields.Selection(
        [("phone", "Phone"), ("sms", "SMS"), ("mail", "Direct mail"), ("email", "Email"), ("other", "Other")],
        readonly=True,
    )
    touches = fields.Integer(readonly=True, aggregator=None)
    campaigns = fields.Integer(readonly=True, aggregator=None)
    contacts = fields.Integer(readonly=True)
    responders = fields.Integer(readonly=True)
    rate = fields.Float("Response rate (%)", readonly=True, aggregator=None)
    rate_low = fields.Float("95 % low (%)", readonly=True, aggregator=None)
    rate_high = fields.Float("95 % high (%)", readonly=True, aggregator=None)
    revenue = fields.Monetary(readonly=True)
    margin = fields.Monetary(readonly=True)
    cost = fields.Monetary("Contact cost", readonly=True)
    romi = fields.Float(
        "ROMI", readonly=True, aggregator=None, help="(margin - contact cost) / contact cost."
    )

    @property
    def _table_query(self):
        return SQL(
            """
            WITH cells AS (
                SELECT t.company_id, t.segment_id, t.channel, t.touches,
                       count(DISTINCT t.campaign_id) AS campaigns,
                       count(*) AS n, count(*) FILTER (WHERE t.responded) AS r,
                       sum(t.revenue) AS revenue, sum(t.margin) AS margin, sum(t.cost) AS cost
                  FROM crm_ror_campaign_target t
                  JOIN utm_campaign c ON c.id = t.campaign_id
                 WHERE t.is_control IS NOT TRUE AND c.crm_ror_refreshed_at IS NOT NULL
              GROUP BY t.company_id, t.segment_id, t.channel, t.touches
            ),
            wilson AS (
                SELECT cells.*, r::float / n AS p, %(z)s::float AS z FROM cells
            )
            SELECT row_number() OVER (ORDER BY company_id, channel, segment_id, touches) AS id,
                   company_id, segment_id, channel, touches, campaigns, n AS contacts, r AS responders,
                   100 * p AS rate,
                   100 * GREATEST(0, ((p + z * z / (2 * n)) - z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)))
                                     / (1 + z * z / n)) AS rate_low,
                   100 * LEAST(1, ((p + z * z / (2 * n)) + z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)))
                                  / (1 + z * z / n)) AS rate_high,
                   revenue, margin, cost,
                   CASE WHEN cost > 0 THEN (margin - cost) / cost END AS romi
              FROM wilson
            """,
            z=Z_95,
        )
