from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_lead import CALIBRATION_AGE_DAYS, TEMPERATURES


class CrmRorTemperatureCalibrationReport(models.Model):
    """Does HOT win more than WARM, and WARM more than COLD? One row per lead with a known temperature
    at a fixed age: the level it had when it was ``CALIBRATION_AGE_DAYS`` days old (snapshot of the daily
    lead cron), or at close when it closed younger. Win rate = won / (won + lost), per team and
    creation period; open leads count in the totals but not in the rate."""

    _name = "crm.ror.temperature.calibration.report"
    _description = "Lead Temperature Calibration"
    _auto = False
    _order = "create_date desc"
    _depends = {
        "crm.lead": [
            "active",
            "type",
            "company_id",
            "team_id",
            "user_id",
            "stage_id",
            "probability",
            "create_date",
            "temperature_at_age",
            "temperature_at_close",
            "date_closed",
        ],
        "crm.stage": ["is_won"],
    }

    lead_id = fields.Many2one("crm.lead", "Lead", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", "Salesperson", readonly=True)
    type = fields.Selection([("lead", "Lead"), ("opportunity", "Opportunity")], readonly=True)
    create_date = fields.Datetime("Created On", readonly=True)
    temperature = fields.Selection(TEMPERATURES, f"Temperature at {CALIBRATION_AGE_DAYS} Days", readonly=True)
    state = fields.Selection([("open", "Open"), ("won", "Won"), ("lost", "Lost")], readonly=True)
    nb_leads = fields.Integer("# Leads", readonly=True)
    nb_won = fields.Integer("# Won", readonly=True)
    nb_lost = fields.Integer("# Lost", readonly=True)
    win_rate = fields.Float(
        "Win Rate (%)", readonly=True, aggregator="avg", digits=(16, 1), help="Won out of won and lost."
    )

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT lead.id AS id, lead.id AS lead_id, lead.company_id, lead.team_id, lead.user_id, lead.type,
                   lead.create_date,
                   COALESCE(lead.temperature_at_age,
                            CASE WHEN lead.date_closed < lead.create_date + %(age)s * INTERVAL '1 day'
                                 THEN lead.temperature_at_close END) AS temperature,
                   state.value AS state,
                   1 AS nb_leads,
                   CASE WHEN state.value = 'won' THEN 1 ELSE 0 END AS nb_won,
                   CASE WHEN state.value = 'lost' THEN 1 ELSE 0 END AS nb_lost,
                   CASE state.value WHEN 'won' THEN 100.0 WHEN 'lost' THEN 0.0 END AS win_rate
              FROM crm_lead lead
         LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
              JOIN LATERAL (SELECT CASE WHEN lead.active AND COALESCE(stage.is_won, FALSE) THEN 'won'
                                        WHEN NOT lead.active AND lead.probability = 0 THEN 'lost'
                                        WHEN lead.active THEN 'open' END AS value) state ON TRUE
             WHERE state.value IS NOT NULL
               AND COALESCE(lead.temperature_at_age,
                            CASE WHEN lead.date_closed < lead.create_date + %(age)s * INTERVAL '1 day'
                                 THEN lead.temperature_at_close END) IS NOT NULL
            """,
            age=CALIBRATION_AGE_DAYS,
        )
