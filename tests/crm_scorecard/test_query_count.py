"""One evaluation per request: a form load runs one aggregate per query part and period shown."""

from unittest import mock

from .common import JAN, ScorecardCase

LINE_FIELDS = [
    "value",
    "value_defined",
    "value_previous",
    "value_last_year",
    "performance",
    "progress",
    "score",
    "stoplight",
    "trend",
    "trend_arrow",
    "message",
]


class TestQueryCount(ScorecardCase):
    def test_form_load_runs_one_aggregate_per_query_part_and_period(self):
        lead = self.env.ref("crm.model_crm_lead")
        created = self.env.ref("crm.field_crm_lead__create_date")
        revenue = self.env.ref("crm.field_crm_lead__expected_revenue")
        Kpi = self.env["crm.scorecard.kpi"]
        kpis = self.kpi_leads
        for index in range(4):
            kpis |= Kpi.create(
                {
                    "name": f"Sum {index}",
                    "code": f"test_qc_sum_{index}",
                    "source": "query",
                    "model_id": lead.id,
                    "domain": f"[('probability', '>=', {index * 10})]",
                    "date_field_id": created.id,
                    "aggregate": "sum",
                    "field_id": revenue.id,
                }
            )
        ratio = Kpi.create(
            {
                "name": "Ratio",
                "code": "test_qc_ratio",
                "source": "query",
                "model_id": lead.id,
                "date_field_id": created.id,
                "aggregate": "count",
                "is_ratio": True,
                "denominator_model_id": lead.id,
                "denominator_date_field_id": created.id,
                "denominator_aggregate": "count",
            }
        )
        formula = Kpi.create(
            {
                "name": "Formula",
                "code": "test_qc_formula",
                "source": "formula",
                "formula": "test_qc_sum_1 / 2",
            }
        )
        kpis |= ratio | formula
        parts = 5 + 2  # five single-part KPIs, one ratio; the formula runs no query
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": kpi.id, "target": 10} for kpi in kpis])
        self._lead(self.company_a, self.team_a, JAN, expected_revenue=10)
        self.env.invalidate_all()
        Model = self.env.registry["crm.scorecard.kpi"]
        with mock.patch.object(
            Model, "_query_read_group", autospec=True, side_effect=Model._query_read_group
        ) as query:
            form = scorecard.with_context(scorecard_date=JAN)
            form.read(
                ["score", "stoplight", "red_count", "score_previous", "score_trend", "evaluation_error"]
            )
            form.line_ids.read(LINE_FIELDS)
            form.perspective_ids.read(["score", "stoplight"])
        # Current, previous and same period last year: three periods shown.
        self.assertLessEqual(query.call_count, parts * 3)
        self.assertEqual(form.line_ids.filtered(lambda line: line.kpi_id == self.kpi_leads).value, 1.0)
        # Without the last-year column, two periods.
        self.env.invalidate_all()
        with mock.patch.object(
            Model, "_query_read_group", autospec=True, side_effect=Model._query_read_group
        ) as query:
            form = scorecard.with_context(scorecard_date=JAN)
            form.read(["score", "red_count", "score_previous"])
            form.line_ids.read([f for f in LINE_FIELDS if f != "value_last_year"])
            form.perspective_ids.read(["score"])
        self.assertLessEqual(query.call_count, parts * 2)
