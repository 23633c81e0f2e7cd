"""Customer data quality: weighted completeness, age through tracking values and verification, stale
flag against the team's or company's limit, with time frozen."""

from datetime import datetime, time, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError

from .campaign_common import CrmRorCampaignCase


class TestDataQuality(CrmRorCampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = cls.env["res.users"].create(
            {
                "name": "ROR DQ Salesman",
                "login": "ror_dq_salesman",
                "company_id": cls.company_a.id,
                "company_ids": [(6, 0, cls.company_a.ids)],
                "groups_id": [(6, 0, [cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        cls.team = cls.env["crm.team"].create({"name": "ROR DQ Team", "company_id": cls.company_a.id})
        cls.team_user = cls.env["res.users"].create(
            {
                "name": "ROR DQ Team Member",
                "login": "ror_dq_team_member",
                "company_id": cls.company_a.id,
                "company_ids": [(6, 0, cls.company_a.ids)],
                "groups_id": [(6, 0, [cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        cls.env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": cls.team_user.id})
        Partner = cls.env["res.partner"]
        cls.full = Partner.create(
            {
                "name": "ROR DQ Full",
                "is_company": True,
                "customer_rank": 1,
                "email": "full@example.com",
                "phone": "+1 555 0100",
                "street": "1 Main St",
                "city": "Springfield",
                "country_id": cls.env.ref("base.us").id,
                "vat": "US123",
                "user_id": cls.salesman.id,
            }
        )
        cls._profile_of(cls.full, cls.seg_1, 100.0, 50.0)
        cls.thin = Partner.create(
            {"name": "ROR DQ Thin", "is_company": True, "customer_rank": 1, "email": "thin@example.com"}
        )
        cls.teamed = Partner.create(
            {"name": "ROR DQ Teamed", "is_company": True, "customer_rank": 1, "user_id": cls.team_user.id}
        )
        cls.other = Partner.create(
            {"name": "ROR DQ Other Company", "customer_rank": 1, "company_id": cls.company_b.id}
        )
        cls.start = datetime.combine(cls.today, time(12, 0))

    def _rows(self):
        Quality = self.env["crm.ror.data.quality"]
        Quality._crm_ror_recompute(self.company_a)
        rows = Quality.search([("company_id", "=", self.company_a.id)])
        return {row.partner_id: row for row in rows}

    def test_completeness_weights(self):
        rows = self._rows()
        self.assertAlmostEqual(rows[self.full].completeness, 100.0)
        self.assertTrue(rows[self.full].is_complete)
        self.assertAlmostEqual(rows[self.thin].completeness, 100.0 / 6)
        self.assertEqual(rows[self.thin].missing_fields, "Address, Phone, Salesperson, Segment, Tax ID")
        self.assertNotIn(self.other, rows, "a customer of company B only is not A's")
        self.company_a.crm_ror_dq_weight_email = 5
        self.assertAlmostEqual(self._rows()[self.thin].completeness, 50.0)
        with self.assertRaisesRegex(ValidationError, "weights cannot be negative"):
            self.company_a.crm_ror_dq_weight_vat = -1

    def test_age_tracking_verification_and_staleness(self):
        # Mail writes tracking values at commit time, and tracks nothing on a record created in the
        # same transaction: commit-time hooks run once after the creation, once after the change.
        self.env.flush_all()
        self.env.cr.flush()
        with freeze_time(self.start + timedelta(days=100)):
            self.thin.email = "thin.new@example.com"  # a tracked change 100 days after creation
            self.env.flush_all()
            self.env.cr.flush()
        with freeze_time(self.start + timedelta(days=400)):
            rows = self._rows()
            # Full: created today, untouched: 400 days old, beyond the company's 365.
            self.assertEqual(rows[self.full].age_days, 400)
            self.assertTrue(rows[self.full].is_stale)
            # Thin: its email changed 300 days ago.
            self.assertEqual(rows[self.thin].last_change_date, self.today + timedelta(days=100))
            self.assertEqual(rows[self.thin].age_days, 300)
            self.assertFalse(rows[self.thin].is_stale)
            self.assertTrue(rows[self.teamed].is_stale)
            # The team's own limit of 500 days.
            self.env["crm.ror.data.quality.policy"].create({"team_id": self.team.id, "freshness_days": 500})
            rows = self._rows()
            self.assertFalse(rows[self.teamed].is_stale)
            self.assertEqual(rows[self.teamed].freshness_days, 500)
            # The salesperson verifies the full record: fresh again.
            rows[self.full].with_user(self.salesman).action_verify()
            self.assertEqual(rows[self.full].verified_date, self.today + timedelta(days=400))
            self.assertFalse(rows[self.full].is_stale)
        with freeze_time(self.start + timedelta(days=500)):
            rows = self._rows()
            self.assertEqual(rows[self.full].age_days, 100, "the verification date survives a recompute")
            self.assertEqual(rows[self.full].verified_date, self.today + timedelta(days=400))

    def test_report_per_salesperson_and_rules(self):
        rows = self._rows()
        groups = dict(
            self.env["crm.ror.data.quality"]._read_group(
                [("company_id", "=", self.company_a.id), ("partner_id", "in", list({p.id for p in rows}))],
                ["user_id"],
                ["completeness:avg"],
            )
        )
        self.assertAlmostEqual(groups[self.salesman], 100.0)
        seen = self.env["crm.ror.data.quality"].with_user(self.salesman).search([])
        self.assertEqual(seen.partner_id, self.full, "a salesperson sees their own customers' rows only")

    def test_kpis(self):
        Quality = self.env["crm.ror.data.quality"]
        Quality.search([]).unlink()
        self._rows()
        Kpi = self.env["crm.ror.service.scorecard.kpi"]
        period = {
            "company": self.company_a,
            "team": self.env["crm.team"],
            "date_from": self.today,
            "date_to": self.today,
            "datetime_from": self.start,
            "datetime_to": self.start,
        }
        rows = Quality.search([("company_id", "=", self.company_a.id)])
        expected = 100.0 * len(rows.filtered("is_complete")) / len(rows)
        self.assertAlmostEqual(Kpi._kpi_data_complete_share(period), expected)
        self.assertEqual(Kpi._kpi_data_median_age(period), 0.0)
        period["team"] = self.team
        # The team's one member has the teamed customer: 1 field of 6 (the salesperson).
        self.assertAlmostEqual(Kpi._kpi_data_complete_share(period), 0.0)
        self.assertEqual(self._rows()[self.teamed].team_id, self.team)

    def test_leads(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "ROR DQ Lead",
                "company_id": self.company_a.id,
                "email_from": "lead@example.com",
                "user_id": self.team_user.id,
                "team_id": self.team.id,
            }
        )
        self.env["crm.ror.data.quality.policy"].create({"team_id": self.team.id, "freshness_days": 30})
        self.env.flush_all()
        self.env.cr.flush()
        LeadQuality = self.env["crm.ror.lead.data.quality"]
        with freeze_time(self.start + timedelta(days=20)):
            lead.phone = "+1 555 0199"  # tracked
            self.env.flush_all()
            self.env.cr.flush()
        with freeze_time(self.start + timedelta(days=45)):
            LeadQuality._crm_ror_recompute(self.company_a)
            row = LeadQuality.search([("lead_id", "=", lead.id)])
            # Email, phone, salesperson of 4 weighted fields (no address).
            self.assertAlmostEqual(row.completeness, 75.0)
            self.assertEqual(row.missing_fields, "Address")
            self.assertEqual(row.age_days, 25)
            self.assertFalse(row.is_stale)
        with freeze_time(self.start + timedelta(days=60)):
            LeadQuality._crm_ror_recompute(self.company_a)
            self.assertTrue(row.is_stale, "40 days beyond the team's 30")
            row.with_user(self.team_user).action_verify()
            self.assertFalse(row.is_stale)
        self.assertEqual(LeadQuality.with_user(self.salesman).search([("id", "=", row.id)]), LeadQuality)
        lead.action_set_won()
        LeadQuality._crm_ror_recompute(self.company_a)
        self.assertFalse(row.exists(), "a won lead leaves the list")

    def test_recompute_menu_action(self):
        # The menu schedules the cron (it used to compute in the request); the cron fills the rows.
        cron = self.env.ref("crm_ror.ir_cron_crm_ror_data_quality")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        result = self.env.ref("crm_ror.crm_ror_data_quality_recompute_action_server").run()
        self.assertEqual(result["tag"], "display_notification")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        self.env["crm.ror.data.quality"]._cron_recompute()
        rows = self.env["crm.ror.data.quality"].search([("company_id", "=", self.company_a.id)])
        self.assertIn(self.full, rows.partner_id)


class TestDataQualityRecomputeButton(CrmRorCampaignCase):
    """The recompute button only schedules the cron, and only for a Return on Relationship manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env.ref("crm_ror.ir_cron_crm_ror_data_quality")
        cls.salesman = cls.env["res.users"].create(
            {
                "name": "ROR DQ Button Salesman",
                "login": "ror_dq_button_salesman",
                "company_id": cls.company_a.id,
                "company_ids": [(6, 0, cls.company_a.ids)],
                "groups_id": [(6, 0, [cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        cls.manager = cls.env["res.users"].create(
            {
                "name": "ROR DQ Button Manager",
                "login": "ror_dq_button_manager",
                "company_id": cls.company_a.id,
                "company_ids": [(6, 0, cls.company_a.ids)],
                "groups_id": [(6, 0, [cls.env.ref("sales_team.group_sale_manager").id])],
            }
        )

    def _triggers(self):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])

    def test_salesman_cannot_start_recompute(self):
        for model in ("crm.ror.data.quality", "crm.ror.lead.data.quality"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.salesman).action_recompute()
        self.assertFalse(self._triggers().filtered(lambda t: t.create_uid == self.salesman))

    def test_manager_schedules_cron_and_computes_nothing_in_request(self):
        Quality = type(self.env["crm.ror.data.quality"])
        LeadQuality = type(self.env["crm.ror.lead.data.quality"])
        self._triggers().unlink()
        for model, cls_ in (("crm.ror.data.quality", Quality), ("crm.ror.lead.data.quality", LeadQuality)):
            with (
                self.subTest(model=model),
                patch.object(cls_, "_crm_ror_recompute", side_effect=AssertionError("computed in request")),
            ):
                action = self.env[model].with_user(self.manager).action_recompute()
                self.assertEqual(action["tag"], "display_notification")
        self.assertTrue(self._triggers())
