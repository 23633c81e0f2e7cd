"""One evaluation per request: a form load runs one grouped aggregate per query part for all the
periods shown (current, previous, and last year only when the scorecard shows it)."""

import datetime
from unittest import mock

from odoo.addons.crm_scorecard.engine import periods as period_engine
from odoo.tools import SQL

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
    def test_form_load_runs_one_aggregate_per_query_part_for_all_periods(self):
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
        kpis |= Kpi.create(
            {
                "name": "Average",
                "code": "test_qc_avg",
                "source": "query",
                "model_id": lead.id,
                "date_field_id": created.id,
                "aggregate": "avg",
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
        parts = 6 + 2  # six single-part KPIs (an average among them), one ratio; no query for the formula
        scorecard = self._scorecard(
            self.company_a,
            lines=[{"kpi_id": kpi.id, "target": 10} for kpi in kpis],
            show_last_year=True,
        )
        self._lead(self.company_a, self.team_a, JAN, expected_revenue=10)
        self._lead(self.company_a, self.team_a, JAN - datetime.timedelta(days=31), expected_revenue=30)
        self._lead(self.company_a, self.team_a, JAN.replace(year=JAN.year - 1), expected_revenue=50)
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
        # Current, previous and same period last year: one query per part for the three.
        self.assertLessEqual(query.call_count, parts)
        lines = {line.kpi_id.code: line for line in form.line_ids}
        self.assertEqual(lines["test_leads_created"].value, 1.0)
        # Each period's own figure out of the shared grouped rows.
        self.assertEqual(
            (
                lines["test_qc_avg"].value,
                lines["test_qc_avg"].value_previous,
                lines["test_qc_avg"].value_last_year,
            ),
            (10.0, 30.0, 50.0),
        )
        # Without the last-year column, last year is not computed.
        scorecard.show_last_year = False
        self.env.invalidate_all()
        with mock.patch.object(
            Model, "_query_read_group", autospec=True, side_effect=Model._query_read_group
        ) as query:
            form = scorecard.with_context(scorecard_date=JAN)
            form.read(["score", "red_count", "score_previous"])
            form.line_ids.read([f for f in LINE_FIELDS if f != "value_last_year"])
            form.perspective_ids.read(["score"])
        self.assertLessEqual(query.call_count, parts)
        self.assertFalse(
            form.line_ids.filtered(lambda line: line.kpi_id == self.kpi_leads).value_last_year_defined
        )
        # Many periods, one query per part: the history of a year.
        self.env.invalidate_all()
        months = period_engine.periods_between("month", datetime.date(2024, 2, 1), JAN, "UTC")
        with mock.patch.object(
            Model, "_query_read_group", autospec=True, side_effect=Model._query_read_group
        ) as query:
            scorecard._record_history({scorecard: months})
        self.assertLessEqual(query.call_count, parts)

    def test_ended_periods_recorded_as_final_are_not_computed_again(self):
        """A catalog KPI's figure of an ended period stored as final (closed) in the history is
        read from it: a form load computes the catalog SQL for the period shown only."""
        pipeline = self.env["crm.scorecard.kpi"].create(
            {
                "name": "Pipeline",
                "code": "test_qc_pipeline",
                "source": "catalog",
                "catalog_code": "crm_scorecard.pipeline_value",
            }
        )
        scorecard = self._scorecard(
            self.company_a,
            lines=[{"kpi_id": pipeline.id, "target": 10, "max_value": 1000}, {"kpi_id": self.kpi_leads.id}],
        )
        december = datetime.datetime(2024, 12, 5)
        self._lead(self.company_a, self.team_a, december, expected_revenue=100)
        shown = scorecard.with_context(scorecard_date=JAN)
        previous = period_engine.previous_period(shown._current_period())
        [stored] = scorecard._record_history({scorecard: [previous]}).filtered(lambda v: v.kpi_id == pipeline)
        self.assertTrue(stored.is_closed)
        self.assertEqual(stored.value, 100.0)
        # A late record of December: the live figure would change, the final one does not.
        self._lead(self.company_a, self.team_a, december, expected_revenue=50)
        self.env.invalidate_all()
        Catalog = self.env.registry["crm.scorecard.catalog"]
        with mock.patch.object(
            Catalog, "_kpi_pipeline_value", autospec=True, side_effect=Catalog._kpi_pipeline_value
        ) as catalog:
            line = shown.line_ids.filtered(lambda line: line.kpi_id == pipeline)
            self.assertEqual((line.value, line.value_previous), (150.0, 100.0))
        self.assertEqual(catalog.call_count, 1)
        # The owner's history of January reads December's final figures for its trend.
        self.env.invalidate_all()
        with mock.patch.object(
            Catalog, "_kpi_pipeline_value", autospec=True, side_effect=Catalog._kpi_pipeline_value
        ) as catalog:
            january = scorecard._record_history({scorecard: [shown._current_period()]})
        self.assertEqual(catalog.call_count, 1)
        self.assertEqual(january.filtered(lambda v: v.kpi_id == pipeline).previous_value, 100.0)

    def test_catalog_providers_run_without_jit(self):
        """The catalog providers' short aggregates are not JIT-compiled (the planner's overestimates
        made PostgreSQL compile each for longer than it ran); the setting is restored after them."""
        pipeline = self.env["crm.scorecard.kpi"].create(
            {
                "name": "Pipeline",
                "code": "test_qc_jit_pipeline",
                "source": "catalog",
                "catalog_code": "crm_scorecard.pipeline_value",
            }
        )
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": pipeline.id, "target": 10}])
        self.env.cr.execute("SET LOCAL jit = on")
        Catalog = self.env.registry["crm.scorecard.catalog"]
        original = Catalog._kpi_pipeline_value
        seen = []

        def pipeline_value(model, period):
            seen.append(self.env.execute_query(SQL("SELECT current_setting('jit')"))[0][0])
            return original(model, period)

        self.env.invalidate_all()
        with mock.patch.object(Catalog, "_kpi_pipeline_value", autospec=True, side_effect=pipeline_value):
            scorecard.with_context(scorecard_date=JAN).line_ids.read(["value", "value_previous"])
        self.assertEqual(seen, ["off", "off"])  # the period shown and the previous one
        self.assertEqual(self.env.execute_query(SQL("SELECT current_setting('jit')")), [("on",)])
