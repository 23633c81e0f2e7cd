"""Purchase profiles on real invoices: credit notes, currencies, companies kept apart, no purchases."""

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .value_common import CrmRorScenarioCase


class TestProfile(CrmRorScenarioCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.ror.customer.profile"]._compute_profiles(cls.company_a | cls.company_b)

    def test_purchase_profile_multi_currency_net_of_credit_notes(self):
        profile = self._profile(self.p1)
        self.assertEqual(len(profile), 1)
        self.assertEqual(profile.purchase_count, 2)
        # 200 USD + 270 EUR at 2 EUR/USD - 50 USD credit note
        self.assertAlmostEqual(profile.revenue, 285.0)
        # 2 + 1 - 1 widgets at 30
        self.assertAlmostEqual(profile.cost, 60.0)
        self.assertAlmostEqual(profile.gross_margin, 225.0)
        self.assertAlmostEqual(profile.clv_historic, 225.0)
        self.assertAlmostEqual(profile.margin_rate, 100 * 225 / 285)
        self.assertAlmostEqual(profile.average_order_value, 142.5)
        self.assertEqual(profile.first_purchase_date, self._days_ago(172))
        self.assertEqual(profile.last_purchase_date, self._days_ago(112))
        self.assertEqual(profile.customer_since, self._days_ago(172))
        self.assertEqual(profile.days_since_last_purchase, 112)
        self.assertAlmostEqual(profile.avg_days_between, 60.0)
        self.assertAlmostEqual(profile.median_days_between, 60.0)
        self.assertAlmostEqual(profile.revenue_12m, 285.0)
        self.assertEqual(profile.currency_id, self.usd)
        self.assertEqual(profile.reference_date, self.today)
        self.assertTrue(profile.computed_at)

    def test_companies_kept_apart(self):
        profile_b = self._profile(self.p1, self.company_b)
        self.assertAlmostEqual(profile_b.revenue, 1000.0)
        self.assertAlmostEqual(profile_b.cost, 800.0)
        self.assertEqual(profile_b.purchase_count, 1)
        self.assertEqual(profile_b.currency_id, self.eur)
        self.assertFalse(self._profile(self.p5))
        self.assertTrue(self._profile(self.p5, self.company_b))
        self.assertEqual(self.company_a.ror_computed_at, self._profile(self.p1).computed_at)
        # A user of company A only sees company A's profiles.
        Profile = (
            self.env["crm.ror.customer.profile"]
            .with_user(self.env.user)
            .with_context(allowed_company_ids=[self.company_a.id])
        )
        user = self.env["res.users"].create(
            {
                "name": "ROR A user",
                "login": "ror_a_user",
                "company_id": self.company_a.id,
                "company_ids": [(6, 0, self.company_a.ids)],
                "groups_id": [
                    (
                        6,
                        0,
                        # All Documents: the company rule alone decides (ownership in test_value_security).
                        [self.env.ref("sales_team.group_sale_salesman_all_leads").id],
                    )
                ],
            }
        )
        Profile = Profile.with_user(user)
        self.assertEqual(Profile.search([("partner_id", "=", self.p1.id)]).company_id, self.company_a)

    def test_fully_reversed_invoice_is_no_purchase(self):
        self.assertEqual(self.reversed_invoice.payment_state, "reversed")
        profile = self._profile(self.p2)
        self.assertEqual(profile.purchase_count, 0)
        self.assertAlmostEqual(profile.revenue, 0.0)
        self.assertEqual(profile.customer_state, "refund_only")
        self.assertFalse(profile.segment_id)

    def test_credit_note_only_customer(self):
        profile = self._profile(self.p3)
        self.assertEqual(profile.purchase_count, 0)
        self.assertAlmostEqual(profile.revenue, -40.0)
        self.assertAlmostEqual(profile.gross_margin, -10.0)
        self.assertFalse(profile.first_purchase_date)
        self.assertEqual(profile.customer_state, "refund_only")
        self.assertEqual((profile.recency_score, profile.frequency_score, profile.monetary_score), (0, 0, 0))
        self.assertFalse(profile.segment_id)
        self.assertEqual(profile.clv_status, "not_enough_history")

    def test_customer_without_purchase_has_no_profile(self):
        # p4 has a draft invoice only
        self.assertFalse(self._profile(self.p4))
        partner = self.p4.with_company(self.company_a)
        self.assertFalse(partner.ror_profile_id)
        self.assertFalse(partner.ror_segment_id)

    def test_partner_fields_follow_the_current_company(self):
        contact = self.p1_contact.with_company(self.company_a)
        self.assertEqual(contact.ror_profile_id, self._profile(self.p1))
        self.assertAlmostEqual(contact.ror_revenue, 285.0)
        contact_b = self.p1_contact.with_company(self.company_b)
        self.assertAlmostEqual(contact_b.ror_revenue, 1000.0)
        action = self.p1.with_company(self.company_a).action_open_ror_profile()
        self.assertEqual(action["res_id"], self._profile(self.p1).id)
        self.assertEqual(
            self.env["res.partner"].search([("ror_profile_id", "=", self._profile(self.p1).id)]),
            self.p1 | self.p1_contact,
        )

    def test_recompute_is_idempotent_and_drops_stale_profiles(self):
        Profile = self.env["crm.ror.customer.profile"]
        before = Profile.search([("company_id", "=", self.company_a.id)])
        self._compute(self.company_a)
        after = Profile.search([("company_id", "=", self.company_a.id)])
        self.assertEqual(before, after)
        # Cancelling the only invoice of the newcomer removes its profile.
        newcomer_invoice = self.env["account.move"].search(
            [("partner_id", "=", self.p6.id), ("company_id", "=", self.company_a.id)]
        )
        newcomer_invoice.button_draft()
        newcomer_invoice.button_cancel()
        self._compute(self.company_a)
        self.assertFalse(self._profile(self.p6))

    def test_reference_date_in_the_past(self):
        # As of 150 days ago, Acme had one purchase.
        self._compute(self.company_a, reference_date=self._days_ago(150))
        profile = self._profile(self.p1)
        self.assertEqual(profile.purchase_count, 1)
        self.assertAlmostEqual(profile.revenue, 200.0)
        self.assertEqual(profile.days_since_last_purchase, 22)
        self.assertEqual(profile.reference_date, self._days_ago(150))

    def test_orders_as_source(self):
        self.company_b.ror_source = "order"
        order = (
            self.env["sale.order"]
            .with_company(self.company_b)
            .create(
                {
                    "partner_id": self.p5.id,
                    "company_id": self.company_b.id,
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": self.product.id,
                                "product_uom_qty": 2,
                                "price_unit": 50.0,
                                "discount": 20.0,
                                "tax_id": [(6, 0, [])],
                            },
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        self._compute(self.company_b)
        profile = self._profile(self.p5, self.company_b)
        self.assertEqual(profile.purchase_count, 1)
        self.assertAlmostEqual(profile.revenue, 80.0)
        self.assertAlmostEqual(profile.cost, 800.0)
        self.assertAlmostEqual(profile.cost_discount, 20.0)
        self.assertEqual(profile.last_purchase_date, fields.Date.to_date(order.date_order))
        # The invoices of company B are not purchases any more: Acme has none there.
        self.assertFalse(self._profile(self.p1, self.company_b))

    def test_cron_and_button(self):
        """The scheduled action recomputes what setUpClass computed (it used to assert only that a
        profile existed, which setUpClass guaranteed)."""
        Profile = self.env["crm.ror.customer.profile"]
        cron = self.env.ref("crm_ror.ir_cron_crm_ror_compute_profiles")
        self.assertEqual(cron.code, "model._cron_compute_profiles()")
        self.env.execute_query(SQL("DELETE FROM crm_ror_customer_profile"))
        self.env.invalidate_all()
        self.env["res.company"].search([]).ror_computed_at = False
        self.env["ir.config_parameter"].set_param("crm_ror.profile_run_start", False)
        for _company in self.env["res.company"].search([]):
            Profile._cron_compute_profiles()
        self.assertAlmostEqual(self._profile(self.p1).revenue, 285.0)
        self.assertAlmostEqual(self._profile(self.p1, self.company_b).revenue, 1000.0)
        action = Profile.with_company(self.company_a).action_recompute()
        self.assertEqual(action["tag"], "display_notification")

    def test_queries_do_not_grow_with_customers(self):
        """Set-wise computation: more customers, same number of queries."""

        def queries_of_recompute():
            self._compute(self.company_a)
            self.env.invalidate_all()  # nothing prefetched by the test itself
            before = self.env.cr.sql_log_count
            self._compute(self.company_a)
            return self.env.cr.sql_log_count - before

        few = queries_of_recompute()
        for index in range(6):
            partner = self.env["res.partner"].create({"name": f"ROR extra {index}"})
            self._invoice(self.company_a, partner, 20 + index, [(1, 10.0 * (index + 1), 0.0)])
            self._invoice(self.company_a, partner, 5 + index, [(1, 10.0, 0.0)])
        many = queries_of_recompute()
        self.assertEqual(
            len(self.env["crm.ror.customer.profile"].search([("company_id", "=", self.company_a.id)])), 11
        )
        self.assertGreater(few, 5)
        self.assertLessEqual(many, few + 2)

    def test_reporting_groupings(self):
        Profile = self.env["crm.ror.customer.profile"]
        self.p1.user_id = self.env.user
        groups = Profile._read_group(
            [("company_id", "=", self.company_a.id), ("user_id", "=", self.env.uid)],
            ["user_id", "segment_id"],
            ["revenue:sum", "gross_margin:sum", "__count"],
        )
        self.assertEqual(groups, [(self.env.user, self._profile(self.p1).segment_id, 285.0, 225.0, 1)])

    def test_recompute_needs_the_manager_group(self):
        user = self.env["res.users"].create(
            {
                "name": "ROR plain user",
                "login": "ror_plain_user",
                "groups_id": [(6, 0, [self.env.ref("crm_ror.group_crm_ror_user").id])],
            }
        )
        with self.assertRaises(AccessError):
            self.env["crm.ror.customer.profile"].with_user(user).action_recompute()
