"""The crm_scorecard demo story: a scorecard per sales team with a year of history."""

import random

from odoo import api, models

from ..engine import periods as period_engine

SEED = 20261202
HISTORY_MONTHS = 12
# manual KPI code: (lowest, highest) monthly value
MANUAL_RANGES = {
    "training_hours": (2, 12),
    "playbook_reviewed": (0, 1),
    "customer_satisfaction": (6.0, 9.5),
}


class CrmScorecardDemo(models.AbstractModel):
    """Builds the demo story of crm_scorecard on install with demo data: every sales team gets a
    scorecard from the shipped template, twelve months of manual values and of recorded history.
    Deterministic (seeded), with periods relative to today."""

    _name = "crm.scorecard.demo"
    _description = "Balanced scorecard demo story"

    @api.model
    def _load_story(self):
        template = self.env.ref("crm_scorecard.template_customer_conversion")
        scorecards = self.env["crm.scorecard"].search([("team_id", "!=", False)])
        # the demo file's own scorecard is the Sales team's
        for team in self.env["crm.team"].search([("id", "not in", scorecards.team_id.ids)]):
            scorecards |= template._create_scorecard(team=team, user=team.user_id or self.env.user)
        rng = random.Random(SEED)
        manual = []
        plan = {}
        for scorecard in scorecards:
            tz = scorecard._tz()
            period = period_engine.period_of(scorecard.period_type, period_engine.local_today(tz), tz)
            periods = [period]
            for _month in range(HISTORY_MONTHS - 1):
                periods.insert(0, period_engine.previous_period(periods[0]))
            plan[scorecard] = periods
            kpis = scorecard.line_ids.kpi_id.filtered(lambda kpi: kpi.code in MANUAL_RANGES)
            known = {(mv.kpi_id, mv.date_from) for mv in scorecard.manual_value_ids}
            for kpi in kpis:
                low, high = MANUAL_RANGES[kpi.code]
                for index, period in enumerate(periods):
                    if (kpi, period.date_from) in known:
                        continue
                    # a team that improves over the year, with a weak spell in the middle
                    share = min(1.0, max(0.0, index / HISTORY_MONTHS + rng.uniform(-0.35, 0.2)))
                    value = low + (high - low) * share
                    manual.append(
                        {
                            "scorecard_id": scorecard.id,
                            "kpi_id": kpi.id,
                            "date": period.date_from,
                            "value": round(value) if kpi.direction == "binary" else round(value, 1),
                        }
                    )
        self.env["crm.scorecard.manual.value"].create(manual)
        self.env["crm.scorecard"]._record_history(plan, raise_errors=False)
