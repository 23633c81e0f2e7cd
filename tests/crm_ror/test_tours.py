"""crm_ror's main screens walked in a real browser (tours in ``crm_ror/static/tests/tours``).

Each test builds its own records, so the tours run without demo data. A tour only drives the
screens; the test then checks on the server that the click did what the screen promised.
"""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL


@tagged("standard", "post_install", "-at_install")
class TestCrmRorTours(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create(
            {"name": "Tour Furniture", "currency_id": cls.env.ref("base.EUR").id}
        )
        cls.salesman = new_test_user(
            cls.env,
            login="tour_ror_sales",
            name="Tina Tour",
            email="tina.tour@example.com",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
            groups="sales_team.group_sale_salesman",
        )
        cls.manager = new_test_user(
            cls.env,
            login="tour_ror_manager",
            name="Mark Tour",
            email="mark.tour@example.com",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
            groups="sales_team.group_sale_manager",
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Tour Customer", "is_company": True, "user_id": cls.salesman.id}
        )
        cls.lamp = cls.env["product.product"].create(
            {"name": "Tour Lamp", "list_price": 20.0, "type": "consu"}
        )
        cls.desk = cls.env["product.product"].create(
            {"name": "Tour Desk", "list_price": 100.0, "type": "consu"}
        )

    def test_suggestion_to_opportunity(self):
        suggestion, other = self.env["crm.ror.suggestion"].create(
            [
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "product_id": product.id,
                    "source_product_id": self.desk.id,
                    "kind": "cross_sell",
                    "confidence": 0.5,
                    "lift": 1.5,
                    "expected_value": value,
                    "user_id": self.salesman.id,
                }
                for product, value in ((self.lamp, 42.0), (self.desk, 7.0))
            ]
        )
        self.start_tour(
            f"/odoo/res.partner/{self.customer.id}",
            "crm_ror_suggestion_to_opportunity",
            login=self.salesman.login,
        )
        lead = suggestion.lead_id
        self.assertEqual(suggestion.state, "done", "the clicked suggestion is converted")
        self.assertEqual(len(lead), 1)
        self.assertEqual(lead.type, "opportunity")
        self.assertEqual(lead.partner_id, self.customer)
        self.assertEqual(lead.company_id, self.company)
        self.assertEqual(lead.user_id, self.salesman)
        self.assertAlmostEqual(lead.expected_revenue, 42.0)
        self.assertEqual(
            (other.state, other.lead_id), ("new", self.env["crm.lead"]), "the other one is untouched"
        )
        self.assertEqual(self.env["crm.lead"].search_count([("partner_id", "=", self.customer.id)]), 1)

    def test_pipeline_temperature_filter_and_why(self):
        team = self.env["crm.team"].create(
            {
                "name": "Tour Team",
                "company_id": self.company.id,
                "user_id": self.salesman.id,
                "member_ids": [Command.set(self.salesman.ids)],
                "temperature_hot_threshold": 60,
                "temperature_warm_threshold": 35,
            }
        )
        common = {
            "type": "opportunity",
            "team_id": team.id,
            "user_id": self.salesman.id,
            "company_id": self.company.id,
        }
        hot, cold = self.env["crm.lead"].create(
            [
                dict(
                    common,
                    name="Tour Hot Deal",
                    probability=95,
                    priority="3",
                    date_deadline=fields.Date.today() + timedelta(days=3),
                ),
                dict(common, name="Tour Cold Deal", probability=2, priority="0"),
            ]
        )
        # the cold one has been idle for three months
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET create_date = now() - interval '90 days', "
                "date_last_stage_update = now() - interval '90 days' WHERE id = %s",
                cold.id,
            )
        )
        self.env["crm.lead"]._ror_recompute_temperature(SQL("lead.id = ANY(%s)", (hot | cold).ids))
        hot.invalidate_recordset()
        cold.invalidate_recordset()
        # the data the tour relies on, checked first so that a failure says where it is
        self.assertEqual((hot.temperature, cold.temperature), ("hot", "cold"))
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline",
            "crm_ror_temperature_filter_why",
            login=self.salesman.login,
        )

    def test_campaign_target_selection(self):
        medium = self.env["utm.medium"].create({"name": "Tour Phone", "crm_ror_channel": "phone"})
        medium.with_company(self.company).ror_contact_cost = 2.0
        campaign = self.env["utm.campaign"].create(
            {
                "title": "Tour Campaign",
                "company_id": self.company.id,
                "crm_ror_medium_id": medium.id,
                "crm_ror_control_share": 0.0,
            }
        )
        gold = self.env["crm.ror.segment"].create({"name": "Tour Gold", "company_id": self.company.id})
        other = self.env["crm.ror.segment"].create({"name": "Tour Silver", "company_id": self.company.id})
        customers = self.env["res.partner"].create(
            [
                {"name": "Tour Alpha", "is_company": True, "email": "alpha@example.com"},
                {"name": "Tour Beta", "is_company": True, "email": "beta@example.com"},
                {
                    "name": "Tour Gamma",
                    "is_company": True,
                    "email": "gamma@example.com",
                    "crm_ror_do_not_contact": True,
                },
                {"name": "Tour Delta", "is_company": True, "email": "delta@example.com"},
            ]
        )
        self.env["crm.ror.customer.profile"].create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "segment_id": (other if partner.name == "Tour Delta" else gold).id,
                    "clv_expected_spend": 500.0,
                    "average_order_value": 500.0,
                    "margin_rate": 40.0,
                    "purchase_count": 3,
                }
                for partner in customers
            ]
        )
        # Who runs campaigns works in Email Marketing too: with mass_mailing installed (as in the test
        # database), stock's campaign form reads a mailing count (ab_testing_mailings_count) that
        # needs its user right, whatever crm_ror adds to the form.
        self.manager.groups_id = [Command.link(self.env.ref("mass_mailing.group_mass_mailing_user").id)]
        self.start_tour(
            f"/odoo/utm.campaign/{campaign.id}", "crm_ror_campaign_target_selection", login=self.manager.login
        )
        targets = campaign.crm_ror_target_ids
        self.assertEqual(
            set(targets.partner_id.mapped("name")),
            {"Tour Alpha", "Tour Beta"},
            "the segment's customers, without the one who must not be contacted nor another segment's",
        )
        self.assertFalse(targets.filtered("is_control"))
        self.assertEqual(targets.mapped("touches"), [1, 1])
        self.assertEqual(targets.segment_id, gold)
