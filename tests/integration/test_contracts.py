"""The addons installed together exchange figures through their hooks, not dependencies."""

from datetime import date, datetime

from ..common import CrmTransactionCase


class TestCrossAddonContracts(CrmTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Contracts Co"})
        cls.period = {
            "company": cls.company,
            "team": cls.env["crm.team"],
            "date_from": date(2026, 1, 1),
            "date_to": date(2026, 1, 31),
            "datetime_from": datetime(2026, 1, 1),
            "datetime_to": datetime(2026, 2, 1),
        }

    def test_scorecard_catalog_collects_every_addon(self):
        catalog = self.env["crm.scorecard.catalog"]._collect_catalog()
        prefixes = {code.split(".")[0] for code in catalog}
        self.assertEqual(prefixes, {"crm_scorecard", "crm_ror", "crm_loyalty"})
        for code in (
            "crm_ror.retention_rate",
            "crm_ror.churn_rate",
            "crm_ror.repeat_customers",
            "crm_ror.profile_freshness",
            "crm_ror.nps",
            "crm_ror.complaint_rate",
            "crm_ror.median_resolution_hours",
            "crm_loyalty.member_retention_rate",
        ):
            self.assertIn(code, catalog)

    def test_every_catalog_kpi_evaluates_on_an_empty_company(self):
        catalog_model = self.env["crm.scorecard.catalog"]
        for code, entry in catalog_model._collect_catalog().items():
            with self.subTest(code=code):
                self.assertIn(entry["perspective"], {"financial", "customer", "process", "learning"})
                self.assertIn(entry["direction"], {"max", "min"})
                value = catalog_model._compute_catalog_value(code, self.period)
                # a company without data gives "undefined" or a count of zero, never an error
                self.assertIn(value, (None, 0, 0.0), f"{code} = {value!r} on a company without data")

    def test_retention_template_keeps_every_line_with_all_addons(self):
        template = self.env.ref("crm_scorecard.template_customer_retention")
        scorecard = template._create_scorecard(company=self.company)
        self.assertEqual(len(scorecard.line_ids), len(template.line_ids))

    def test_loyalty_adds_its_cost_to_serve(self):
        profile = self.env["crm.ror.customer.profile"]
        self.assertIn("crm.loyalty.cost.to.serve", profile._ror_cost_providers())
        self.assertEqual(profile._ror_other_costs(self.company, [self.company.partner_id.id], None, None), {})
