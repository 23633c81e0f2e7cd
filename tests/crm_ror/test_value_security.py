"""Who sees which customer's value figures: owners, team leaders, managers, companies, portal.

Each visibility test checks a property over every (user, model) pair rather than one example:
the set of customers a user can see equals the set the ownership rule gives.
"""

from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError

from .value_common import CrmRorValueCase

# Models that carry one customer's value figures, and the field naming that customer.
VALUE_MODELS = {
    "crm.ror.customer.profile": "partner_id",
    "crm.ror.segment.snapshot": "partner_id",
    "crm.ror.segment.history": "partner_id",
    "crm.ror.segment.transition.report": "partner_id",
    "crm.ror.suggestion": "partner_id",
    "crm.ror.key.date": "commercial_partner_id",
}


class TestValueSecurity(CrmRorValueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a, b = cls.company_a, cls.company_b
        salesman = cls.env.ref("sales_team.group_sale_salesman")
        cls.s1 = cls._user("ror_sec_s1", [salesman], a | b)
        cls.s2 = cls._user("ror_sec_s2", [salesman], a | b)
        cls.leader = cls._user("ror_sec_leader", [salesman], a | b)
        cls.manager = cls._user("ror_sec_manager", [cls.env.ref("sales_team.group_sale_manager")], a | b)
        cls.a_only = cls._user("ror_sec_a_only", [cls.env.ref("sales_team.group_sale_salesman_all_leads")], a)
        cls.portal = cls._user("ror_sec_portal", [cls.env.ref("base.group_portal")], a)
        cls.team = cls.env["crm.team"].create(
            {"name": "ROR Sec Team", "user_id": cls.leader.id, "company_id": False}
        )
        cls.env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": cls.s2.id})

        Partner = cls.env["res.partner"]
        cls.c1 = Partner.create({"name": "ROR Sec One", "is_company": True, "user_id": cls.s1.id})
        cls.c1_contact = Partner.create({"name": "ROR Sec One Buyer", "parent_id": cls.c1.id})
        cls.c2 = Partner.create({"name": "ROR Sec Two", "is_company": True, "user_id": cls.s2.id})
        cls.c3 = Partner.create({"name": "ROR Sec Three", "is_company": True, "user_id": cls.leader.id})
        cls.c4 = Partner.create({"name": "ROR Sec Nobody's", "is_company": True})
        cls.customers = cls.c1 | cls.c2 | cls.c3 | cls.c4
        for index, customer in enumerate(cls.customers, start=1):
            cls._invoice(a, customer, 10 * index, [(1, 100.0 * index, 0.0)])
            cls._invoice(a, customer, 10 * index + 40, [(1, 10.0, 0.0)])
            cls._invoice(b, customer, 5 * index, [(1, 1000.0 * index, 0.0)])
            for company in (a, b):
                cls.env["crm.ror.key.date"].create(
                    {
                        "partner_id": (cls.c1_contact if customer == cls.c1 else customer).id,
                        "company_id": company.id,
                        "kind": "birthday",
                        "date": "1980-05-01",
                    }
                )
                cls.env["crm.ror.suggestion"].create(
                    {
                        "partner_id": customer.id,
                        "company_id": company.id,
                        "product_id": cls.product.id,
                        "kind": "reorder",
                        "expected_value": 10.0 * index,
                        "user_id": customer.user_id.id,
                    }
                )
        # Two months of history, so the transition report has rows of both kinds. Company B had no
        # invoice 40 days ago: its month before is a stored snapshot of its own.
        cls._compute(reference_date=cls.today - timedelta(days=40))
        cls._compute()
        cls.env["crm.ror.segment.snapshot"].create(
            [
                {
                    "month": (cls.today - timedelta(days=40)).replace(day=1),
                    "company_id": b.id,
                    "partner_id": customer.id,
                    "revenue_12m": 10.0,
                }
                for customer in cls.customers
            ]
        )

    @classmethod
    def _user(cls, login, groups, companies):
        return cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "email": f"{login}@example.com",
                "company_id": companies[:1].id,
                "company_ids": [Command.set(companies.ids)],
                "groups_id": [Command.set([group.id for group in groups])],
            }
        )

    @classmethod
    def _compute(cls, companies=None, reference_date=None):
        cls.env["crm.ror.customer.profile"]._compute_profiles(
            companies or (cls.company_a | cls.company_b), reference_date=reference_date
        )

    def _as(self, user, model, companies=None):
        companies = companies or user.company_ids
        return self.env[model].with_user(user).with_context(allowed_company_ids=companies.ids)

    def _expected(self, user):
        """Customers whose figures ``user`` may see: own, plus the members' of a team they lead."""
        if user.has_group("sales_team.group_sale_salesman_all_leads"):
            return self.customers
        led = self.env["crm.team"].search([("user_id", "=", user.id)])
        owners = user | led.member_ids
        return self.customers.filtered(lambda c: c.user_id and c.user_id in owners)

    def test_every_model_shows_only_the_customers_a_user_may_see(self):
        self.env.flush_all()
        for user in (self.s1, self.s2, self.leader, self.manager):
            expected = self._expected(user)
            for model, field in VALUE_MODELS.items():
                records = self._as(user, model).search([(field, "in", self.customers.ids)])
                self.assertTrue(records or not expected, f"{user.login} sees no {model}")
                self.assertEqual(records.mapped(field), expected, f"{user.login} on {model}")
        # The ownership rule is the one of the partner's salesperson: the team leader sees his own and
        # his member's customers, a plain salesperson only his own.
        self.assertEqual(self._expected(self.leader), self.c2 | self.c3)
        self.assertEqual(self._expected(self.s1), self.c1)

    def test_service_records_follow_the_same_ownership_rule(self):
        """Satisfaction, grievances, data quality and campaign targets: own plus led team's customers."""
        campaign = self.env["utm.campaign"].create(
            {"name": "ROR Sec Campaign", "company_id": self.company_a.id}
        )
        leads = self.env["crm.lead"]
        for customer in self.customers:
            self.env["crm.ror.nps.answer"].create(
                {"partner_id": customer.id, "company_id": self.company_a.id, "score": 9}
            )
            self.env["crm.ror.grievance"].create(
                {"name": "Late", "partner_id": customer.id, "company_id": self.company_a.id, "user_id": False}
            )
            self.env["crm.ror.campaign.target"].create(
                {"campaign_id": campaign.id, "partner_id": customer.id}
            )
            leads |= self.env["crm.lead"].create(
                {
                    "name": f"ROR Sec lead {customer.name}",
                    "partner_id": customer.id,
                    "user_id": customer.user_id.id,
                    "company_id": self.company_a.id,
                }
            )
        self.env["crm.ror.data.quality"]._crm_ror_recompute(self.company_a)
        self.env["crm.ror.lead.data.quality"]._crm_ror_recompute(self.company_a)
        service_models = {
            "crm.ror.nps.answer": "commercial_partner_id",
            "crm.ror.grievance": "commercial_partner_id",
            "crm.ror.campaign.target": "partner_id",
            "crm.ror.data.quality": "partner_id",
            "crm.ror.lead.data.quality": "lead_id.partner_id",
        }
        self.env.flush_all()
        for user in (self.s1, self.s2, self.leader, self.manager):
            expected = self._expected(user)
            for model, field in service_models.items():
                # by lead ids: a team leader sees his member's lead figures, not the lead itself
                if model == "crm.ror.lead.data.quality":
                    domain = [("lead_id", "in", leads.ids)]
                else:
                    domain = [(field, "in", self.customers.ids)]
                records = self._as(user, model).search(domain)
                self.assertEqual(records.sudo().mapped(field), expected, f"{user.login} on {model}")

    def test_read_group_totals_only_own_customers(self):
        self.env.flush_all()
        Profile = self._as(self.s1, "crm.ror.customer.profile", self.company_a)
        [(revenue, count)] = Profile._read_group([], aggregates=["revenue:sum", "__count"])
        own = self.env["crm.ror.customer.profile"].search(
            [("partner_id", "=", self.c1.id), ("company_id", "=", self.company_a.id)]
        )
        self.assertEqual(count, 1)
        self.assertAlmostEqual(revenue, own.revenue)
        for model in (
            "crm.ror.segment.snapshot",
            "crm.ror.segment.history",
            "crm.ror.segment.transition.report",
        ):
            groups = self._as(self.s1, model, self.company_a)._read_group(
                [], groupby=["partner_id"], aggregates=["revenue_12m:sum"]
            )
            self.assertEqual({partner for partner, _total in groups}, {self.c1}, model)
        [(value,)] = self._as(self.s1, "crm.ror.suggestion", self.company_a)._read_group(
            [], aggregates=["expected_value:sum"]
        )
        self.assertAlmostEqual(value, 10.0)

    def test_partner_form_shows_no_figure_of_other_customers(self):
        for partner in (self.c2, self.c4):
            other = partner.with_user(self.s1).with_context(allowed_company_ids=self.company_a.ids)
            self.assertFalse(other.ror_profile_id)
            self.assertFalse(other.ror_revenue)
            self.assertFalse(other.ror_gross_margin)
            self.assertFalse(other.ror_segment_id)
            self.assertFalse(other.ror_profile_ids)
        own = self.c1_contact.with_user(self.s1).with_context(allowed_company_ids=self.company_a.ids)
        self.assertTrue(own.ror_profile_id)
        self.assertAlmostEqual(own.ror_revenue, 110.0)
        # The superuser's cache must not leak into the salesperson's read either.
        self.assertTrue(self.c2.with_context(allowed_company_ids=self.company_a.ids).ror_revenue)
        self.assertFalse(
            self.c2.with_user(self.s1).with_context(allowed_company_ids=self.company_a.ids).ror_revenue
        )

    def test_salesperson_cannot_write_computed_records(self):
        profile = self._as(self.s1, "crm.ror.customer.profile").search([("partner_id", "=", self.c1.id)])
        self.assertTrue(profile)
        with self.assertRaises(AccessError):
            profile[:1].write({"revenue": 1e9})
        with self.assertRaises(AccessError):
            self._as(self.s1, "crm.ror.customer.profile").create(
                {"partner_id": self.c1.id, "company_id": self.company_a.id}
            )
        snapshot = self._as(self.s1, "crm.ror.segment.snapshot").search([], limit=1)
        with self.assertRaises(AccessError):
            snapshot.write({"revenue": 1e9})
        suggestion = self._as(self.s1, "crm.ror.suggestion", self.company_a).search([])
        self.assertEqual(len(suggestion), 1)
        for values in ({"expected_value": 1e9}, {"state": "done"}, {"user_id": self.s2.id}):
            with self.assertRaises(AccessError):
                suggestion.write(values)
        with self.assertRaises(AccessError):
            suggestion.unlink()
        # Its state changes through its actions only.
        suggestion.action_dismiss()
        self.assertEqual(suggestion.state, "dismissed")
        # Not on another salesperson's suggestion.
        other = self.env["crm.ror.suggestion"].search(
            [("partner_id", "=", self.c2.id), ("company_id", "=", self.company_a.id)]
        )
        with self.assertRaises(AccessError):
            other.with_user(self.s1).action_dismiss()
        self.assertEqual(other.state, "new")

    def test_user_of_company_a_sees_nothing_of_b(self):
        self.env.flush_all()
        for model, field in VALUE_MODELS.items():
            Model = self._as(self.a_only, model)
            records = Model.search([])
            self.assertTrue(records, model)
            self.assertEqual(records.company_id, self.company_a, model)
            self.assertEqual(records.mapped(field), self.customers, model)
            # A client asking for company B is refused.
            with self.assertRaises(AccessError):
                Model.with_context(allowed_company_ids=[self.company_b.id]).search([])
            theirs = self.env[model].search([("company_id", "=", self.company_b.id)], limit=1)
            self.assertTrue(theirs, model)
            with self.assertRaises(AccessError):
                theirs.with_user(self.a_only).read([field])

    def test_portal_reads_nothing(self):
        for model in VALUE_MODELS:
            with self.assertRaises(AccessError):
                self._as(self.portal, model).search([])
        with self.assertRaises(AccessError):
            self.c1.with_user(self.portal).read(["ror_revenue"])


class TestCompaniesAndCurrencies(CrmRorValueCase):
    """Company A in USD, company B in EUR, one customer buying in both: nothing crosses over."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a, b = cls.company_a, cls.company_b
        cls.customer = cls.env["res.partner"].create({"name": "ROR Two Companies", "is_company": True})
        cls.product_a = cls.env["product.product"].create(
            {
                "name": "ROR Only Sold In A",
                "list_price": 100.0,
                "type": "consu",
                "taxes_id": [Command.clear()],
            }
        )
        cls.product_b = cls.env["product.product"].create(
            {
                "name": "ROR Only Sold In B",
                "list_price": 100.0,
                "type": "consu",
                "taxes_id": [Command.clear()],
            }
        )
        eur_pricelist = cls.env["product.pricelist"].create(
            {"name": "ROR EUR in A", "currency_id": cls.eur.id, "company_id": a.id}
        )
        for days in (100, 70, 40):
            cls._order(a, cls.product_a, days, 100.0, eur_pricelist)  # 100 EUR = 50 USD
            cls._order(b, cls.product_b, days, 300.0)
        cls._invoice(a, cls.customer, 30, [(1, 100.0, 0.0)], currency=cls.eur)  # 50 USD
        cls._invoice(b, cls.customer, 20, [(3, 100.0, 0.0)])  # 300 EUR
        cls.env["crm.ror.customer.profile"]._compute_profiles(a | b)
        for company in (a, b):
            cls.env["crm.ror.suggestion"]._compute_company_suggestions(company)

    @classmethod
    def _order(cls, company, product, days_ago, price, pricelist=None):
        order = (
            cls.env["sale.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": cls.customer.id,
                    "company_id": company.id,
                    "pricelist_id": pricelist.id if pricelist else False,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": 1,
                                "price_unit": price,
                                "tax_id": False,
                            }
                        )
                    ],
                }
            )
        )
        order.action_confirm()
        order.date_order = fields.Datetime.now() - timedelta(days=days_ago)
        return order

    def test_profiles_in_company_currency_and_apart(self):
        profile_a = self._profile(self.customer, self.company_a)
        profile_b = self._profile(self.customer, self.company_b)
        self.assertEqual(profile_a.currency_id, self.usd)
        self.assertEqual(profile_b.currency_id, self.eur)
        self.assertAlmostEqual(profile_a.revenue, 50.0)
        self.assertEqual(profile_a.purchase_count, 1)
        self.assertAlmostEqual(profile_b.revenue, 300.0)
        self.assertEqual(profile_b.purchase_count, 1)

    def test_order_profiles_convert_the_order_currency(self):
        self.company_a.ror_source = "order"
        self.env["crm.ror.customer.profile"]._compute_profiles(self.company_a)
        profile = self._profile(self.customer, self.company_a)
        self.assertEqual(profile.purchase_count, 3)
        self.assertAlmostEqual(profile.revenue, 150.0)

    def test_suggestions_use_only_their_company_orders(self):
        for company, product, expected in (
            (self.company_a, self.product_a, 50.0),
            (self.company_b, self.product_b, 300.0),
        ):
            suggestions = self.env["crm.ror.suggestion"].search(
                [("company_id", "=", company.id), ("partner_id", "=", self.customer.id)]
            )
            self.assertEqual(suggestions.product_id | suggestions.source_product_id, product, company.name)
            reorder = suggestions.filtered(lambda s: s.kind == "reorder")
            self.assertEqual(len(reorder), 1, company.name)
            self.assertAlmostEqual(reorder.expected_value, expected, msg=company.name)
            self.assertEqual(reorder.currency_id, company.currency_id)


class TestPartnersForOtherApps(CrmRorValueCase):
    def test_an_internal_user_outside_sales_reads_partners_whole(self):
        """An accountant (no sales or crm_ror group) reads every field of a partner, as an RPC
        integration's ``read()`` does: crm_ror's relational fields are not in his way."""
        clerk = self.env["res.users"].create(
            {
                "name": "ROR accountant",
                "login": "ror_accountant",
                "company_id": self.company_a.id,
                "company_ids": [Command.set([self.company_a.id])],
                "groups_id": [Command.set([self.env.ref("account.group_account_invoice").id])],
            }
        )
        self.assertFalse(clerk.has_group("crm_ror.group_crm_ror_user"))
        partner = self.env["res.partner"].create({"name": "ROR Partner For All", "is_company": True})
        values = partner.with_user(clerk).read()[0]
        self.assertEqual(values["name"], "ROR Partner For All")
        self.assertNotIn("ror_suggestion_ids", values)
        self.assertNotIn("crm_ror_key_date_ids", values)
