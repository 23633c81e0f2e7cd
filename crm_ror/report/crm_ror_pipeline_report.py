from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_lead import TEMPERATURES

IDLE_BUCKETS = [
    ("0_7", "0-7 days"),
    ("8_14", "8-14 days"),
    ("15_30", "15-30 days"),
    ("31_60", "31-60 days"),
    ("61_90", "61-90 days"),
    ("91", "Over 90 days"),
]


class CrmRorPipelineReport(models.Model):
    """One row per lead. Won = active in a won stage, whatever its probability; lost = archived at 0 %
    (Odoo 18's semantics); other archived leads are "archived", in no ratio. Win rate and
    opportunity-to-sale count opportunities only. Ratios are averages of 0/100 columns that are
    NULL outside their population, so the pivot's average is the ratio of any group."""

    _name = "crm.ror.pipeline.report"
    _description = "Pipeline Analysis"
    _auto = False
    _rec_name = "name"
    _order = "create_date desc"
    _depends = {
        "crm.lead": [
            "name",
            "type",
            "active",
            "company_id",
            "team_id",
            "user_id",
            "source_id",
            "medium_id",
            "campaign_id",
            "stage_id",
            "temperature",
            "temperature_at_close",
            "is_neglected",
            "create_date",
            "date_closed",
            "date_deadline",
            "expected_revenue",
            "probability",
            "date_last_stage_update",
            "date_last_activity_done",
            "date_last_customer_message",
        ],
        "crm.stage": ["is_won"],
        "res.company": ["currency_id"],
    }

    lead_id = fields.Many2one("crm.lead", "Lead", readonly=True)
    name = fields.Char(readonly=True)
    type = fields.Selection([("lead", "Lead"), ("opportunity", "Opportunity")], readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", "Salesperson", readonly=True)
    source_id = fields.Many2one("utm.source", "Source", readonly=True)
    medium_id = fields.Many2one("utm.medium", "Medium", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", "Campaign", readonly=True)
    stage_id = fields.Many2one("crm.stage", "Stage", readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("won", "Won"), ("lost", "Lost"), ("archived", "Archived")], readonly=True
    )
    temperature = fields.Selection(TEMPERATURES, readonly=True)
    temperature_at_close = fields.Selection(TEMPERATURES, "Temperature at Close", readonly=True)
    idle_days = fields.Integer(readonly=True, aggregator="avg")
    idle_bucket = fields.Selection(IDLE_BUCKETS, "Idle Age", readonly=True)
    is_neglected = fields.Boolean("Neglected", readonly=True)
    create_date = fields.Datetime("Created On", readonly=True)
    date_closed = fields.Datetime("Closed On", readonly=True)
    date_deadline = fields.Date("Expected Closing", readonly=True)
    lifetime_days = fields.Float("Lifetime (Days)", readonly=True, aggregator="avg", digits=(16, 1))
    won_lifetime_days = fields.Float(
        "Days to Win", readonly=True, aggregator="avg", digits=(16, 1), help="Lifetime of won leads only."
    )
    company_currency = fields.Many2one("res.currency", "Currency", readonly=True)
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    prorated_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    won_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    probability = fields.Float(readonly=True, aggregator="avg")
    nb_leads = fields.Integer("# Leads", readonly=True)
    nb_opportunities = fields.Integer("# Opportunities", readonly=True)
    nb_won = fields.Integer("# Won", readonly=True)
    nb_lost = fields.Integer("# Lost", readonly=True)
    opportunity_to_sale = fields.Float(
        "Opportunity to Sale (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Won opportunities out of all opportunities, open ones included (archived but not lost ones left out).",
    )
    win_rate = fields.Float(
        "Win Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Won out of closed (won or lost) opportunities; disqualified leads do not count.",
    )

    @property
    def _table_query(self):
        return SQL("%s %s", self._with(), self._select())

    def _with(self):
        return SQL(
            """
            WITH base AS (
                SELECT lead.*,
                       CASE WHEN lead.active AND COALESCE(stage.is_won, FALSE) THEN 'won'
                            WHEN NOT lead.active AND lead.probability = 0 THEN 'lost'
                            WHEN lead.active THEN 'open'
                            ELSE 'archived' END AS lead_state,
                       GREATEST(FLOOR(EXTRACT(EPOCH FROM (%s - GREATEST(
                           lead.create_date, lead.date_last_stage_update,
                           lead.date_last_activity_done, lead.date_last_customer_message))) / 86400), 0)::int
                           AS lead_idle_days,
                       company.currency_id AS company_currency
                  FROM crm_lead lead
             LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
             LEFT JOIN res_company company ON company.id = lead.company_id
            )
            """,
            # the server's clock (as the lead form's idle days), built into the query each time it runs
            fields.Datetime.now(),
        )

    def _select(self):
        return SQL(
            """
            SELECT base.id AS id,
                   base.id AS lead_id,
                   base.name AS name,
                   base.type AS type,
                   base.company_id AS company_id,
                   base.team_id AS team_id,
                   base.user_id AS user_id,
                   base.source_id AS source_id,
                   base.medium_id AS medium_id,
                   base.campaign_id AS campaign_id,
                   base.stage_id AS stage_id,
                   base.lead_state AS state,
                   base.temperature AS temperature,
                   base.temperature_at_close AS temperature_at_close,
                   CASE WHEN base.lead_state = 'open' THEN base.lead_idle_days END AS idle_days,
                   CASE WHEN base.lead_state != 'open' THEN NULL
                        WHEN base.lead_idle_days <= 7 THEN '0_7'
                        WHEN base.lead_idle_days <= 14 THEN '8_14'
                        WHEN base.lead_idle_days <= 30 THEN '15_30'
                        WHEN base.lead_idle_days <= 60 THEN '31_60'
                        WHEN base.lead_idle_days <= 90 THEN '61_90'
                        ELSE '91' END AS idle_bucket,
                   COALESCE(base.is_neglected, FALSE) AS is_neglected,
                   base.create_date AS create_date,
                   CASE WHEN base.lead_state IN ('won', 'lost') THEN base.date_closed END AS date_closed,
                   base.date_deadline AS date_deadline,
                   CASE WHEN base.lead_state IN ('won', 'lost')
                        THEN EXTRACT(EPOCH FROM (base.date_closed - base.create_date)) / 86400.0 END
                       AS lifetime_days,
                   CASE WHEN base.lead_state = 'won'
                        THEN EXTRACT(EPOCH FROM (base.date_closed - base.create_date)) / 86400.0 END
                       AS won_lifetime_days,
                   base.company_currency AS company_currency,
                   COALESCE(base.expected_revenue, 0) AS expected_revenue,
                   COALESCE(base.expected_revenue, 0) * COALESCE(base.probability, 0) / 100.0 AS prorated_revenue,
                   CASE WHEN base.lead_state = 'won' THEN COALESCE(base.expected_revenue, 0) ELSE 0 END
                       AS won_revenue,
                   base.probability AS probability,
                   1 AS nb_leads,
                   CASE WHEN base.type = 'opportunity' THEN 1 ELSE 0 END AS nb_opportunities,
                   CASE WHEN base.lead_state = 'won' THEN 1 ELSE 0 END AS nb_won,
                   CASE WHEN base.lead_state = 'lost' THEN 1 ELSE 0 END AS nb_lost,
                   CASE WHEN base.type != 'opportunity' OR base.lead_state = 'archived' THEN NULL
                        WHEN base.lead_state = 'won' THEN 100.0 ELSE 0.0 END AS opportunity_to_sale,
                   CASE WHEN base.type != 'opportunity' THEN NULL
                        WHEN base.lead_state = 'won' THEN 100.0
                        WHEN base.lead_state = 'lost' THEN 0.0 END AS win_rate
              FROM base
            """
        )
