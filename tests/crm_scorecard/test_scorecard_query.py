"""Query and catalog KPIs on fixtures in two companies, with timezone period boundaries."""

import datetime

from odoo.addons.crm_scorecard.engine.batching import batch_key
from odoo.exceptions import UserError, ValidationError

from .common import JAN, ScorecardCase

DT = datetime.datetime


class TestQueryKpi(ScorecardCase):
    def _value(self, scorecard, day=JAN):
        line = scorecard.line_ids[:1].with_context(scorecard_date=day)
        return line.value if line.value_defined else None

    def test_company_and_team_filters(self):
        for _ in range(2):
            self._lead(self.company_a, self.team_a, DT(2025, 1, 10, 12))
        self._lead(self.company_a, self.team_a2, DT(2025, 1, 11, 12))
        for _ in range(4):
            self._lead(self.company_b, self.team_b, DT(2025, 1, 12, 12))
        self._lead(self.company_a, self.team_a, DT(2025, 2, 3, 12))  # next month
        line = [{"kpi_id": self.kpi_leads.id, "target": 10, "baseline": 0}]
        self.assertEqual(self._value(self._scorecard(self.company_a, lines=line)), 3)
        self.assertEqual(self._value(self._scorecard(self.company_a, self.team_a, lines=line)), 2)
        self.assertEqual(self._value(self._scorecard(self.company_b, lines=line)), 4)
        self.assertEqual(
            self._value(self._scorecard(self.company_a, lines=line), datetime.date(2025, 2, 1)), 1
        )

    def test_period_boundaries_in_owner_timezone(self):
        # 2024-12-31 11:30 UTC is already 2025-01-01 00:30 in Auckland (UTC+13)...
        self._lead(self.company_a, self.team_a, DT(2024, 12, 31, 11, 30))
        # ...while 10:30 UTC is still 23:30 on New Year's Eve.
        self._lead(self.company_a, self.team_a, DT(2024, 12, 31, 10, 30))
        line = [{"kpi_id": self.kpi_leads.id, "target": 10}]
        auckland = self._scorecard(self.company_a, lines=line, owner=self.owner)
        self.assertEqual(self._value(auckland), 1)
        self.assertEqual(self._value(auckland, datetime.date(2024, 12, 5)), 1)
        utc = self._scorecard(self.company_a, lines=line)
        self.assertEqual(self._value(utc), 0)
        self.assertEqual(self._value(utc, datetime.date(2024, 12, 5)), 2)

    def test_sum_ratio_and_undefined(self):
        kpi = self.env["crm.scorecard.kpi"].create(
            {
                "name": "Won share",
                "code": "test_won_share",
                "source": "query",
                "model_id": self.env.ref("crm.model_crm_lead").id,
                "domain": "[('probability', '>=', 100)]",
                "date_field_id": self.env.ref("crm.field_crm_lead__create_date").id,
                "aggregate": "count",
                "is_ratio": True,
                "denominator_model_id": self.env.ref("crm.model_crm_lead").id,
                "denominator_domain": "[]",
                "denominator_date_field_id": self.env.ref("crm.field_crm_lead__create_date").id,
                "denominator_aggregate": "count",
                "ratio_factor": 100,
            }
        )
        self._lead(self.company_a, self.team_a, DT(2025, 1, 5), probability=100)
        for _ in range(3):
            self._lead(self.company_a, self.team_a, DT(2025, 1, 6), probability=10)
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": kpi.id, "target": 50}])
        self.assertAlmostEqual(self._value(scorecard), 25.0)
        # No lead at all in company B: zero denominator, undefined (not 0).
        empty = self._scorecard(self.company_b, lines=[{"kpi_id": kpi.id, "target": 50}])
        line = empty.line_ids.with_context(scorecard_date=JAN)
        self.assertFalse(line.value_defined)
        self.assertTrue(line.message)
        self.assertFalse(empty.with_context(scorecard_date=JAN).score_defined)

    def test_bad_domain_names_the_kpi(self):
        with self.assertRaisesNamed(ValidationError, "Broken domain KPI"):
            self.env["crm.scorecard.kpi"].create(
                {
                    "name": "Broken domain KPI",
                    "code": "test_broken_domain",
                    "source": "query",
                    "model_id": self.env.ref("crm.model_crm_lead").id,
                    "domain": "[('no_such_field', '=', 1)]",
                    "aggregate": "count",
                }
            )
        with self.assertRaisesNamed(ValidationError, "Unparsable KPI"):
            self.env["crm.scorecard.kpi"].create(
                {
                    "name": "Unparsable KPI",
                    "code": "test_unparsable",
                    "source": "query",
                    "model_id": self.env.ref("crm.model_crm_lead").id,
                    "domain": "[('name', '=' ",
                    "aggregate": "count",
                }
            )
        with self.assertRaisesNamed(ValidationError, "Sum without field"):
            self.env["crm.scorecard.kpi"].create(
                {
                    "name": "Sum without field",
                    "code": "test_sum_no_field",
                    "source": "query",
                    "model_id": self.env.ref("crm.model_crm_lead").id,
                    "aggregate": "sum",
                }
            )

    def test_catalog_builtins(self):
        # Win rate: 1 won, 3 lost in January; conversion: 1 won per 5 created. Won means a won
        # stage whatever the probability (crm 18's semantics): the won deal's probability is
        # lowered by hand, and a deal at 100 % in an open stage is not won.
        won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        won = self._lead(
            self.company_a, self.team_a, DT(2025, 1, 2), stage_id=won_stage.id, date_closed=DT(2025, 1, 20)
        )
        self.env.cr.execute("UPDATE crm_lead SET probability = 90 WHERE id = %s", (won.id,))
        self._lead(self.company_a, self.team_a, DT(2025, 1, 5), probability=100)
        for _ in range(3):
            lost = self._lead(self.company_a, self.team_a, DT(2025, 1, 3))
            lost.action_set_lost()
            lost.flush_recordset()
            self.env.cr.execute(
                "UPDATE crm_lead SET date_closed = %s WHERE id = %s", (DT(2025, 1, 21), lost.id)
            )
        self._lead(self.company_a, self.team_a, DT(2025, 1, 4))  # still open
        self.env["crm.lead"].invalidate_model()
        catalog = self.env["crm.scorecard.catalog"]
        period = {
            "company": self.company_a,
            "team": self.team_a,
            "date_from": datetime.date(2025, 1, 1),
            "date_to": datetime.date(2025, 1, 31),
            "datetime_from": DT(2025, 1, 1),
            "datetime_to": DT(2025, 2, 1),
        }
        self.assertAlmostEqual(catalog._compute_catalog_value("crm_scorecard.win_rate", period), 25.0)
        self.assertAlmostEqual(
            catalog._compute_catalog_value("crm_scorecard.conversion_rate", period), 100 / 6
        )
        self.assertAlmostEqual(catalog._compute_catalog_value("crm_scorecard.lead_lifetime", period), 18.0)
        self.assertIsNone(
            catalog._compute_catalog_value(
                "crm_scorecard.win_rate", dict(period, company=self.company_b, team=None)
            )
        )
        self.assertTrue(won)

    def test_catalog_sales_kpis(self):
        product = self.env["product.product"].create({"name": "Widget", "list_price": 100.0})
        seller_1 = self.owner
        seller_2 = self.env["res.users"].create(
            {
                "name": "Seller 2",
                "login": "scorecard_seller2",
                "company_id": self.company_a.id,
                "company_ids": [(6, 0, [self.company_a.id])],
            }
        )
        partners = self.env["res.partner"].create([{"name": f"Customer {i}"} for i in range(3)])

        def order(partner, user, qty, when):
            so = (
                self.env["sale.order"]
                .with_company(self.company_a)
                .create(
                    {
                        "partner_id": partner.id,
                        "user_id": user.id,
                        "team_id": self.team_a.id,
                        "company_id": self.company_a.id,
                        "order_line": [
                            (
                                0,
                                0,
                                {
                                    "product_id": product.id,
                                    "product_uom_qty": qty,
                                    "price_unit": 100.0,
                                    "tax_id": False,
                                },
                            )
                        ],
                    }
                )
            )
            so.action_confirm()
            so.date_order = when
            return so

        order(partners[0], seller_1, 1, DT(2024, 12, 10))  # old customer
        order(partners[0], seller_1, 2, DT(2025, 1, 10))
        order(partners[1], seller_2, 4, DT(2025, 1, 11))  # new in January
        order(partners[2], seller_2, 3, DT(2025, 2, 11))  # new in February
        period = {
            "company": self.company_a,
            "team": self.env["crm.team"],
            "date_from": datetime.date(2025, 1, 1),
            "date_to": datetime.date(2025, 1, 31),
            "datetime_from": DT(2025, 1, 1),
            "datetime_to": DT(2025, 2, 1),
        }
        catalog = self.env["crm.scorecard.catalog"]
        self.assertEqual(catalog._compute_catalog_value("crm_scorecard.new_customers", period), 1.0)
        self.assertAlmostEqual(
            catalog._compute_catalog_value("crm_scorecard.revenue_per_salesperson", period), 300.0
        )

    def test_unknown_catalog_code_is_undefined(self):
        kpi = self.env["crm.scorecard.kpi"].create(
            {
                "name": "Provider KPI",
                "code": "test_provider",
                "source": "catalog",
                "catalog_code": "crm_scorecard.win_rate",
            }
        )
        # As if the provider addon had been uninstalled since.
        self.env.cr.execute("UPDATE crm_scorecard_kpi SET catalog_code = 'gone.kpi' WHERE id = %s", (kpi.id,))
        kpi.invalidate_recordset()
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": kpi.id, "target": 10}])
        line = scorecard.line_ids.with_context(scorecard_date=JAN)
        self.assertFalse(line.value_defined)
        self.assertIn("gone.kpi", line.message)
        with self.assertRaisesNamed(ValidationError, "Bad provider KPI"):
            self.env["crm.scorecard.kpi"].create(
                {
                    "name": "Bad provider KPI",
                    "code": "test_bad_provider",
                    "source": "catalog",
                    "catalog_code": "nope.kpi",
                }
            )

    def test_formula_errors_name_the_kpi(self):
        Kpi = self.env["crm.scorecard.kpi"]
        with self.assertRaisesNamed(ValidationError, "Syntax KPI"):
            Kpi.create(
                {"name": "Syntax KPI", "code": "test_syntax", "source": "formula", "formula": "a +* b"}
            )
        with self.assertRaisesNamed(ValidationError, "Unknown names KPI.*no_such_code"):
            Kpi.create(
                {
                    "name": "Unknown names KPI",
                    "code": "test_unknown",
                    "source": "formula",
                    "formula": "no_such_code + 1",
                }
            )
        first = Kpi.create(
            {
                "name": "Cycle one",
                "code": "test_cycle_one",
                "source": "formula",
                "formula": "test_leads_created + 1",
            }
        )
        Kpi.create(
            {
                "name": "Cycle two",
                "code": "test_cycle_two",
                "source": "formula",
                "formula": "test_cycle_one * 2",
            }
        )
        with self.assertRaisesNamed(ValidationError, "Cycle one.*Cycle two|Cycle two.*Cycle one"):
            first.formula = "test_cycle_two + 1"
        # A KPI named by a formula can be neither renamed nor deleted.
        with self.assertRaisesNamed(UserError, "Cycle one"):
            self.kpi_leads.code = "test_leads_renamed"
        with self.assertRaisesNamed(UserError, "Cycle one"):
            self.kpi_leads.unlink()
        # Attribute access is refused at save; a runtime error (not a division by zero) is
        # reported with the KPI's name.
        with self.assertRaisesNamed(ValidationError, "Attribute KPI"):
            Kpi.create(
                {
                    "name": "Attribute KPI",
                    "code": "test_attribute",
                    "source": "formula",
                    "formula": "test_leads_created.real.nope",
                }
            )
        bad = Kpi.create(
            {
                "name": "Runtime KPI",
                "code": "test_runtime",
                "source": "formula",
                "formula": "10 ** (test_leads_created + 10 ** 10)",
            }
        )
        scorecard = self._scorecard(self.company_a, lines=[{"kpi_id": bad.id, "target": 1}])
        with self.assertRaisesNamed(UserError, "Runtime KPI"):
            scorecard._evaluate(scorecard.with_context(scorecard_date=JAN)._current_period())


class TestBatchedQueries(ScorecardCase):
    def test_batched_values_equal_single_queries(self):
        Kpi = self.env["crm.scorecard.kpi"]
        lead_model = self.env.ref("crm.model_crm_lead")
        created = self.env.ref("crm.field_crm_lead__create_date")
        revenue = Kpi.create(
            {
                "name": "Expected revenue",
                "code": "test_expected_revenue",
                "source": "query",
                "model_id": lead_model.id,
                "date_field_id": created.id,
                "aggregate": "sum",
                "field_id": self.env.ref("crm.field_crm_lead__expected_revenue").id,
            }
        )
        ratio = Kpi.create(
            {
                "name": "Revenue per lead",
                "code": "test_revenue_per_lead",
                "source": "query",
                "model_id": lead_model.id,
                "date_field_id": created.id,
                "aggregate": "sum",
                "field_id": self.env.ref("crm.field_crm_lead__expected_revenue").id,
                "is_ratio": True,
                "denominator_model_id": lead_model.id,
                "denominator_date_field_id": created.id,
                "denominator_aggregate": "count",
                "ratio_factor": 1,
            }
        )
        average = Kpi.create(
            {
                "name": "Average revenue",
                "code": "test_avg_revenue",
                "source": "query",
                "model_id": lead_model.id,
                "date_field_id": created.id,
                "aggregate": "avg",
                "field_id": self.env.ref("crm.field_crm_lead__expected_revenue").id,
            }
        )
        self._lead(self.company_a, self.team_a, DT(2025, 1, 3), expected_revenue=100)
        self._lead(self.company_a, self.team_a2, DT(2025, 1, 4), expected_revenue=50)
        self._lead(self.company_b, self.team_b, DT(2025, 1, 5), expected_revenue=70)
        shared = self._lead(self.company_a, self.team_a, DT(2025, 1, 6), expected_revenue=5)
        shared.write({"company_id": False, "team_id": False})
        self._lead(self.company_a, self.team_a, DT(2025, 2, 6), expected_revenue=1000)
        periods = []
        for company, team in (
            (self.company_a, self.team_a),
            (self.company_a, self.env["crm.team"]),
            (self.company_a, self.team_a2),
            (self.company_b, self.env["crm.team"]),
            (self.company_b, self.team_b),
        ):
            for start, stop in ((DT(2025, 1, 1), DT(2025, 2, 1)), (DT(2025, 2, 1), DT(2025, 3, 1))):
                periods.append(
                    {
                        "company": company,
                        "team": team,
                        "date_from": start.date(),
                        "date_to": stop.date() - datetime.timedelta(days=1),
                        "datetime_from": start,
                        "datetime_to": stop,
                        # the grouped path: one query per company for both months
                        "period_type": "month",
                        "tz": "UTC",
                    }
                )
        # Without a period type (catalog contract), one query per period: same figures.
        periods += [dict(period, period_type=None) for period in periods]
        kpis = self.kpi_leads | revenue | ratio | average
        batched = kpis._batch_query_values(periods)
        # Averages are grouped too (per team); the two shapes of a period share their key.
        self.assertEqual(len(batched), 4 * len(periods) // 2)
        for kpi in kpis:
            for period in periods:
                with self.subTest(kpi=kpi.name, company=period["company"].name, team=period["team"].name):
                    self.assertEqual(batched[batch_key(kpi.id, period)], kpi._query_value(period))
        # Team scorecards only: the grouped query reads those teams' rows, same figures.
        team_periods = [p for p in periods if p["team"] and p["team"] != self.team_a2]
        team_batched = kpis._batch_query_values(team_periods)
        for kpi in kpis:
            for period in team_periods:
                with self.subTest(kpi=kpi.name, team=period["team"].name, type=period["period_type"]):
                    self.assertEqual(team_batched[batch_key(kpi.id, period)], kpi._query_value(period))
        self.assertEqual(team_batched[batch_key(revenue.id, periods[0])], 100.0)  # not team A2's 50
        january_a = periods[2]
        self.assertEqual(batched[batch_key(revenue.id, january_a)], 155.0)  # 100 + 50 + no company
        self.assertEqual(batched[batch_key(average.id, periods[0])], 100.0)  # team A in January
        self.assertAlmostEqual(batched[batch_key(average.id, periods[2])], 155.0 / 3)  # every team


class TestCatalogNames(ScorecardCase):
    def test_builtin_catalog_names_are_distinct_and_not_generic(self):
        names = [entry["name"] for entry in self.env["crm.scorecard.catalog"]._crm_scorecard_kpi_catalog()]
        self.assertEqual(len(names), len(set(names)))
        # "Win rate" alone is ambiguous next to crm_ror's lead win rate.
        self.assertIn("Opportunity win rate", names)
        self.assertNotIn("Win rate", names)
        self.assertEqual(self.env.ref("crm_scorecard.kpi_win_rate").name, "Opportunity win rate")


class TestKpiCodes(ScorecardCase):
    def test_codes_are_names_a_formula_can_reach(self):
        """A code is refused when no formula could name it: a Python keyword or constant, a
        formula function, or text that Python normalises into another name (NFKC)."""
        Kpi = self.env["crm.scorecard.kpi"]
        for code in ("if", "None", "True", "lambda", "min", "round", "\uff41", "\ufb01rst", "1st", "a-b"):
            with self.subTest(code=code), self.assertRaisesNamed(ValidationError, f"Code KPI.*{code}"):
                Kpi.create({"name": "Code KPI", "code": code, "source": "manual"})
        kpi = Kpi.create({"name": "Code KPI", "code": "café_2", "source": "manual"})
        formula = Kpi.create(
            {"name": "Uses it", "code": "test_uses_cafe", "source": "formula", "formula": "café_2 * 2"}
        )
        self.assertEqual(formula.formula, "café_2 * 2")
        self.assertEqual(kpi.code, "café_2")
