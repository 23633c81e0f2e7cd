"""Product affinity in SQL, cross-sell / reorder suggestions, conversion and per-salesperson listing."""

from datetime import timedelta

from odoo import fields
from odoo.addons.crm_ror.engine.affinity import association_rules
from odoo.exceptions import AccessError, UserError

from .touch_common import TouchCase


class TestSuggestions(TouchCase):
    def _baskets(self):
        """The engine test's baskets as confirmed orders of four customers."""
        self.c1 = self._customer("Touch Alpha", self.salesman_1)
        self.c2 = self._customer("Touch Beta", self.salesman_1)
        self.c3 = self._customer("Touch Gamma", self.salesman_2)
        self.c4 = self._customer("Touch Delta", self.salesman_2, email="delta@example.com")
        self._order(self.c1, "AB", days_ago=50)
        self._order(self.c1, "ABC", days_ago=40)
        self._order(self.c2, "AC", days_ago=30)
        self._order(self.c3, "B", days_ago=20)
        self._order(self.c4, "ABD", days_ago=10)
        self._order(self.c4, "C", confirm=False)  # a quotation is no basket

    def _recompute(self):
        self.env["crm.ror.suggestion"]._compute_company_suggestions(self.company)
        return self.env["crm.ror.suggestion"].search([("company_id", "=", self.company.id)])

    def test_affinity_sql_matches_engine(self):
        self._baskets()
        self._recompute()
        pairs = self.env["crm.ror.product.affinity"].search([("company_id", "=", self.company.id)])
        code = {product: key for key, product in self.products.items()}
        expected = association_rules(["AB", "ABC", "AC", "B", "ABD"], min_support=0.3)
        self.assertEqual(
            {(code[p.product_a_id], code[p.product_b_id]) for p in pairs},
            set(expected),
            "pairs above min support",
        )
        for pair in pairs:
            rule = expected[(code[pair.product_a_id], code[pair.product_b_id])]
            self.assertEqual(pair.pair_count, rule.count)
            self.assertAlmostEqual(pair.support, rule.support)
            self.assertAlmostEqual(pair.confidence, rule.confidence)
            self.assertAlmostEqual(pair.lift, rule.lift)
        chair_after_desk = pairs.filtered(
            lambda p: p.product_a_id == self.products["A"] and p.product_b_id == self.products["B"]
        )
        self.assertAlmostEqual(chair_after_desk.confidence, 0.75)
        self.assertAlmostEqual(chair_after_desk.lift, 0.9375)

    def test_cross_sell(self):
        self._baskets()
        suggestions = self._recompute()
        # Only Desk <-> Lamp reaches lift 1.1: Delta bought a Desk but never a Lamp.
        self.assertEqual(len(suggestions), 1)
        self.assertEqual(suggestions.partner_id, self.c4)
        self.assertEqual(suggestions.product_id, self.products["C"])
        self.assertEqual(suggestions.kind, "cross_sell")
        self.assertEqual(suggestions.source_product_id, self.products["A"])
        self.assertEqual(suggestions.user_id, self.salesman_2)
        # Lamp sells at 20 x 1 per order, half of the Desk orders hold one.
        self.assertAlmostEqual(suggestions.expected_value, 10.0)
        self.assertIn("50% of orders with Touch Desk also include Touch Lamp", suggestions.reason)
        self.assertTrue(suggestions.computed_date)
        self.assertEqual(self.company.crm_ror_suggestion_date, suggestions.computed_date)

    def test_recompute_replaces_new_suggestions(self):
        self._baskets()
        first = self._recompute()
        second = self._recompute()
        self.assertEqual(len(second), 1)
        self.assertFalse(first.exists())

    def test_reorder_due_past_usual_interval(self):
        customer = self._customer("Touch Epsilon", self.salesman_1)
        for days_ago in (100, 70, 40):  # Shelf every 30 days, last 40 days ago (> 30 x 1.2)
            self._order(customer, "D", days_ago=days_ago, qty=2.0)
        for days_ago in (50, 30, 10):  # Chair every 20 days, last 10 days ago: not due
            self._order(customer, "B", days_ago=days_ago)
        for days_ago in (200, 140):  # Lamp twice only: below the 3 purchases needed
            self._order(customer, "C", days_ago=days_ago)
        reorders = self._recompute().filtered(lambda s: s.kind == "reorder")
        self.assertEqual(reorders.product_id, self.products["D"])
        self.assertEqual(reorders.partner_id, customer)
        self.assertAlmostEqual(reorders.interval_days, 30.0)
        self.assertEqual(reorders.purchase_count, 3)
        self.assertEqual(reorders.usual_qty, 2.0)
        self.assertAlmostEqual(reorders.expected_value, 160.0)  # 80 x 2
        self.assertIn("about every 30 days", reorders.reason)
        self.assertIn("40 days ago", reorders.reason)

    def test_reorder_amounts_in_company_currency(self):
        usd = self.env.ref("base.USD")
        usd.active = True
        self.env["res.currency.rate"].create(
            {"currency_id": usd.id, "company_id": self.company.id, "rate": 2.0, "name": "2000-01-01"}
        )
        pricelist = self.env["product.pricelist"].create(
            {"name": "Touch USD", "currency_id": usd.id, "company_id": self.company.id}
        )
        customer = self._customer("Touch Dollar", self.salesman_1, property_product_pricelist=pricelist.id)
        for days_ago in (100, 70, 40):
            order = self._order(customer, "D", days_ago=days_ago, price=160.0)  # 160 USD = 80 EUR
            self.assertEqual(order.currency_id, usd)
        reorder = self._recompute().filtered(lambda s: s.kind == "reorder")
        self.assertAlmostEqual(reorder.expected_value, 80.0)

    def test_do_not_contact_and_blacklisted_get_no_suggestion(self):
        self._baskets()
        self.c3.crm_ror_do_not_contact = True  # another customer's flag blocks only that customer
        self.assertEqual(self._recompute().partner_id, self.c4)
        self.c4.crm_ror_do_not_contact = True
        self.assertFalse(self._recompute())
        self.c4.crm_ror_do_not_contact = False
        self.env["mail.blacklist"].create({"email": "delta@example.com"})
        self.assertTrue(self.c4.crm_ror_no_outreach)
        self.assertFalse(self._recompute())

    def test_do_not_contact_blocks_conversion(self):
        self._baskets()
        suggestion = self._recompute()
        self.c4.crm_ror_do_not_contact = True
        with self.assertRaises(UserError):
            suggestion.action_create_opportunity()
        with self.assertRaises(UserError):
            suggestion.action_add_to_quotation()

    def test_closed_suggestions_are_not_acted_on_again(self):
        self._baskets()
        suggestion = self._recompute()
        dismissed = suggestion.copy({"lead_id": False, "order_id": False})
        dismissed.action_dismiss()
        suggestion.action_create_opportunity()
        converted = suggestion
        lead = converted.lead_id
        self.assertEqual((converted.state, dismissed.state), ("done", "dismissed"))
        leads_before = self.env["crm.lead"].search_count([])
        orders_before = self.env["sale.order"].search_read([], ["amount_untaxed"])
        for closed in converted | dismissed:
            for action in ("action_create_opportunity", "action_add_to_quotation"):
                with self.subTest(state=closed.state, action=action):
                    with self.assertRaisesRegex(UserError, "already converted or dismissed"):
                        getattr(closed, action)()
        self.assertEqual(converted.lead_id, lead, "the link to the first opportunity is kept")
        self.assertEqual(self.env["crm.lead"].search_count([]), leads_before)
        self.assertEqual(self.env["sale.order"].search_read([], ["amount_untaxed"]), orders_before)

    def test_dismissed_not_proposed_again_within_cooldown(self):
        self._baskets()
        suggestion = self._recompute()
        suggestion.action_dismiss()
        self.assertEqual(suggestion.state, "dismissed")
        self.assertEqual(self._recompute(), suggestion, "only the dismissed one remains")
        suggestion.closed_date = fields.Datetime.now() - timedelta(days=91)
        fresh = self._recompute() - suggestion
        self.assertEqual(fresh.product_id, self.products["C"])
        self.assertEqual(fresh.state, "new")

    def test_suggestion_to_opportunity(self):
        self._baskets()
        suggestion = self._recompute()
        action = suggestion.action_create_opportunity()
        lead = suggestion.lead_id
        self.assertEqual(action["res_id"], lead.id)
        self.assertEqual(lead.type, "opportunity")
        self.assertEqual(lead.partner_id, self.c4)
        self.assertEqual(lead.user_id, self.salesman_2)
        self.assertAlmostEqual(lead.expected_revenue, 10.0)
        self.assertEqual(suggestion.state, "done")
        with self.assertRaises(UserError):
            suggestion.action_create_opportunity()

    def test_suggestion_to_quotation_line(self):
        self._baskets()
        draft = self.env["sale.order"].search([("partner_id", "=", self.c4.id), ("state", "=", "draft")])
        suggestion = self._recompute()
        suggestion.action_add_to_quotation()
        self.assertEqual(suggestion.order_id, draft, "the open draft quotation is reused")
        self.assertEqual(suggestion.state, "done")
        line = draft.order_line.filtered(lambda line: line.product_id == self.products["C"])
        # The draft already had a Lamp: its quantity grows (it used to get a duplicate line).
        self.assertEqual(len(line), 1)
        self.assertAlmostEqual(line.product_uom_qty, 1.0 + suggestion.usual_qty)

    def test_suggestion_to_new_quotation(self):
        customer = self._customer("Touch Zeta", self.salesman_1)
        for days_ago in (100, 70, 40):
            self._order(customer, "D", days_ago=days_ago, qty=2.0)
        suggestion = self._recompute()
        suggestion.action_add_to_quotation()
        order = suggestion.order_id
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.partner_id, customer)
        self.assertEqual(order.user_id, self.salesman_1)
        self.assertEqual(order.order_line.product_id, self.products["D"])
        self.assertEqual(order.order_line.product_uom_qty, 2.0)

    def test_salesperson_sees_own_customers(self):
        self._baskets()  # cross-sell for Delta (salesperson 2)
        own = self._customer("Touch Eta", self.salesman_1)
        nobody = self._customer("Touch Theta")
        for customer in (own, nobody):
            for days_ago in (100, 70, 40):
                self._order(customer, "D", days_ago=days_ago)
        self.company.crm_ror_affinity_min_support = 0.1  # the Shelf orders dilute the pairs
        everything = self._recompute()
        self.assertTrue(everything.filtered(lambda s: s.partner_id == self.c4 and s.kind == "cross_sell"))
        self.assertEqual(everything.filtered(lambda s: s.kind == "reorder").partner_id, own | nobody)
        Suggestion = self.env["crm.ror.suggestion"]
        for user in (self.salesman_1, self.salesman_2):
            seen = Suggestion.with_user(user).search([])
            self.assertEqual(seen, everything.filtered(lambda s, user=user: s.partner_id.user_id == user))
            self.assertNotIn(nobody, seen.partner_id, "unassigned customers are for All Documents users")
        all_docs = self.salesman_2.copy({"login": "touch_sales_all"})
        all_docs.groups_id |= self.env.ref("sales_team.group_sale_salesman_all_leads")
        self.assertEqual(Suggestion.with_user(all_docs).search([]), everything)
        self.assertNotIn(self.c4, Suggestion.with_user(self.salesman_1).search([]).partner_id)
        # The menu opens on "My Customers".
        action = self.env.ref("crm_ror.crm_ror_suggestion_action")
        self.assertIn("search_default_my_customers", action.context)
        mine = Suggestion.with_user(self.salesman_1).search([("user_id", "=", self.salesman_1.id)])
        self.assertTrue(mine)
        self.assertEqual(mine.user_id, self.salesman_1)
        # A salesperson can act on their suggestions.
        mine.with_user(self.salesman_1).action_create_opportunity()
        self.assertEqual(set(mine.mapped("state")), {"done"})

    def test_recompute_button_is_for_managers(self):
        with self.assertRaises(AccessError):
            self.env["crm.ror.suggestion"].with_user(self.salesman_1).action_recompute()

    def test_up_sell_from_higher_segment(self):
        Segment = self.env["crm.ror.segment"]
        gold, silver, bronze = (
            Segment.create({"name": name, "sequence": sequence, "company_id": self.company.id})
            for name, sequence in (("Touch Gold", 1), ("Touch Silver", 2), ("Touch Bronze", 3))
        )
        pro_desk = self.env["product.product"].create(
            {"name": "Touch Desk Pro", "list_price": 300.0, "categ_id": self.category.id}
        )
        spotlight = self.env["product.product"].create(
            {
                "name": "Touch Spotlight",
                "list_price": 500.0,
                "categ_id": self.env["product.category"].create({"name": "Touch Lights"}).id,
            }
        )
        self.products.update({"E": pro_desk, "S": spotlight})
        self.company.crm_ror_upsell_min_buyers = (
            1  # one better customer is enough here (see test_suggestion_rules)
        )
        best = self._customer("Touch Best", self.salesman_1)
        middle = self._customer("Touch Middle", self.salesman_1)
        low = self._customer("Touch Low", self.salesman_2)
        self._order(best, "AES", days_ago=30)
        self._order(middle, "A", days_ago=20)
        self._order(low, "AB", days_ago=10, qty=2.0)
        for partner, segment in ((best, gold), (middle, silver), (low, bronze)):
            self.env["crm.ror.customer.profile"].create(
                {"partner_id": partner.id, "company_id": self.company.id, "segment_id": segment.id}
            )
        up_sells = self._recompute().filtered(lambda s: s.kind == "up_sell")
        # The Spotlight is dearer but of another category; the Chair is cheaper; Best has no better segment.
        self.assertEqual(up_sells.partner_id, middle | low)
        self.assertEqual(up_sells.product_id, pro_desk)
        low_up = up_sells.filtered(lambda s: s.partner_id == low)
        self.assertEqual(low_up.source_product_id, self.products["A"])
        self.assertEqual(low_up.segment_id, bronze)
        self.assertEqual(low_up.purchase_count, 1)
        self.assertEqual(low_up.user_id, self.salesman_2)
        self.assertAlmostEqual(low_up.expected_value, 400.0)  # (300 - 100) x 2
        self.assertIn("segments above Touch Bronze buy Touch Desk Pro", low_up.reason)
        self.assertAlmostEqual(up_sells.filtered(lambda s: s.partner_id == middle).expected_value, 200.0)
        # A product already proposed as a cross-sell is not proposed again as an up-sell.
        self.company.crm_ror_affinity_min_lift = 0.5
        self.company.crm_ror_affinity_min_support = 0.3
        suggestions = self._recompute()
        cross = suggestions.filtered(lambda s: s.kind == "cross_sell" and s.partner_id == low)
        self.assertIn(pro_desk, cross.product_id)
        self.assertFalse(suggestions.filtered(lambda s: s.kind == "up_sell" and s.partner_id == low))

    def test_scorecard_kpis(self):
        self._baskets()
        own = self._customer("Touch Iota", self.salesman_1)
        for days_ago in (100, 70, 40):
            self._order(own, "D", days_ago=days_ago)
        self.company.crm_ror_affinity_min_support = 0.1
        suggestions = self._recompute()
        converted = suggestions.filtered(lambda s: s.partner_id == self.c4)
        self.assertTrue(converted)
        self.assertTrue(suggestions.filtered(lambda s: s.user_id == self.salesman_1))
        converted.action_create_opportunity()
        (suggestions - converted).action_dismiss()
        now = fields.Datetime.now()
        period = {
            "company": self.company,
            "team": self.env["crm.team"],
            "date_from": now.date(),
            "date_to": now.date(),
            "datetime_from": now - timedelta(days=1),
            "datetime_to": now + timedelta(days=1),
        }
        Suggestion = self.env["crm.ror.suggestion"]
        catalog = {kpi["code"]: kpi for kpi in Suggestion._crm_scorecard_kpi_catalog()}
        rate = getattr(Suggestion, catalog["crm_ror.suggestion_conversion_rate"]["method"])(period)
        self.assertAlmostEqual(rate, 100.0 * len(converted) / len(suggestions))
        value = getattr(Suggestion, catalog["crm_ror.suggestion_converted_value"]["method"])(period)
        self.assertAlmostEqual(value, sum(converted.mapped("expected_value")))
        team = self.env["crm.team"].create(
            {"name": "Touch Team", "member_ids": [(6, 0, self.salesman_1.ids)]}
        )
        self.assertEqual(Suggestion._kpi_suggestion_conversion_rate(dict(period, team=team)), 0.0)
        later = dict(period, datetime_from=now + timedelta(days=2), datetime_to=now + timedelta(days=3))
        self.assertIsNone(Suggestion._kpi_suggestion_conversion_rate(later))

    def test_nightly_cron(self):
        self._baskets()
        self.env.ref("crm_ror.ir_cron_crm_ror_suggestions").method_direct_trigger()
        suggestions = self.env["crm.ror.suggestion"].search([("company_id", "=", self.company.id)])
        self.assertEqual(suggestions.partner_id, self.c4)
        self.assertTrue(self.company.crm_ror_suggestion_date)
        self.assertTrue(
            self.env["crm.ror.product.affinity"].search_count([("company_id", "=", self.company.id)])
        )
