"""Suggestions a salesperson would act on: bounded up-sell, expiring reorders, Lost customers,
quotation lines merged, do-not-contact in the "Contact Due" filter."""

from odoo import Command, fields
from odoo.tools.safe_eval import safe_eval

from .touch_common import TouchCase


class TestSuggestionRules(TouchCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Segment = cls.env["crm.ror.segment"]
        cls.gold, cls.bronze = (
            Segment.create({"name": name, "sequence": sequence, "company_id": cls.company.id})
            for name, sequence in (("Rules Gold", 1), ("Rules Bronze", 2))
        )
        cls.pro_desk = cls.env["product.product"].create(
            {"name": "Touch Desk Pro", "list_price": 300.0, "categ_id": cls.category.id, "type": "consu"}
        )
        cls.products["E"] = cls.pro_desk
        cls.low = cls._customer("Rules Low", cls.salesman_1)
        cls._order(cls.low, "A", days_ago=10)
        cls._profile(cls.low, cls.bronze)
        cls.golds = cls.env["res.partner"]
        for index in range(5):
            gold = cls._customer(f"Rules Gold {index}", cls.salesman_2)
            cls._order(gold, "E", days_ago=20 + index)
            cls._profile(gold, cls.gold)
            cls.golds |= gold
        cls.company.crm_ror_affinity_min_support = 1.0  # no cross-sell in the way

    @classmethod
    def _profile(cls, partner, segment, state="active"):
        return cls.env["crm.ror.customer.profile"].create(
            {
                "partner_id": partner.id,
                "company_id": cls.company.id,
                "segment_id": segment.id,
                "customer_state": state,
            }
        )

    def _up_sells(self):
        self.env["crm.ror.suggestion"]._compute_company_suggestions(self.company)
        return self.env["crm.ror.suggestion"].search(
            [("company_id", "=", self.company.id), ("kind", "=", "up_sell")]
        )

    def test_up_sell_needs_k_buyers_of_better_segments(self):
        self.assertEqual(self.company.crm_ror_upsell_min_buyers, 5)
        up_sell = self._up_sells()
        self.assertEqual(up_sell.partner_id, self.low)
        self.assertEqual(up_sell.product_id, self.pro_desk)
        self.assertEqual(up_sell.purchase_count, 5)
        self.company.crm_ror_upsell_min_buyers = 6
        self.assertFalse(self._up_sells())

    def test_up_sell_only_in_small_categories_or_optional_products(self):
        # "Touch Office" holds 5 saleable products: too wide for a limit of 4 ...
        self.company.crm_ror_upsell_max_category_size = 4
        self.assertFalse(self._up_sells())
        # ... unless the dearer product is an optional product of the one bought.
        self.products["A"].product_tmpl_id.optional_product_ids = [
            Command.link(self.pro_desk.product_tmpl_id.id)
        ]
        self.assertEqual(self._up_sells().product_id, self.pro_desk)

    def test_up_sell_in_the_same_unit_of_measure_category(self):
        self.pro_desk.product_tmpl_id.write(
            {
                "uom_id": self.env.ref("uom.product_uom_kgm").id,
                "uom_po_id": self.env.ref("uom.product_uom_kgm").id,
            }
        )
        self.assertFalse(self._up_sells())

    def test_no_suggestion_for_lost_customers(self):
        for days_ago in (100, 70, 40):
            self._order(self.low, "D", days_ago=days_ago)
        self.env["crm.ror.suggestion"]._compute_company_suggestions(self.company)
        kinds = set(self.env["crm.ror.suggestion"].search([("partner_id", "=", self.low.id)]).mapped("kind"))
        self.assertEqual(kinds, {"up_sell", "reorder"})
        self.env["crm.ror.customer.profile"].search(
            [("partner_id", "=", self.low.id)]
        ).customer_state = "lost"
        self.env["crm.ror.suggestion"]._compute_company_suggestions(self.company)
        self.assertFalse(self.env["crm.ror.suggestion"].search([("partner_id", "=", self.low.id)]))

    def test_reorder_expires_after_m_cycles_overdue(self):
        # Every 30 days, three times. M = 3: due from 36 days after the last purchase (tolerance 1.2)
        # up to 120 days (30 + 3 x 30); after that the habit is gone.
        cases = {}
        for last in (40, 115, 125, 400):
            customer = self._customer(f"Rules Reorder {last}", self.salesman_1)
            for days_ago in (last + 60, last + 30, last):
                self._order(customer, "D", days_ago=days_ago)
            cases[customer] = last <= 120
        self.env["crm.ror.suggestion"]._compute_company_suggestions(self.company)
        reorders = self.env["crm.ror.suggestion"].search(
            [("company_id", "=", self.company.id), ("kind", "=", "reorder")]
        )
        self.assertEqual(
            reorders.partner_id, self.env["res.partner"].union(*(c for c, due in cases.items() if due))
        )
        self.company.crm_ror_reorder_max_cycles = 20
        self.env["crm.ror.suggestion"]._compute_company_suggestions(self.company)
        reorders = self.env["crm.ror.suggestion"].search(
            [("company_id", "=", self.company.id), ("kind", "=", "reorder")]
        )
        self.assertEqual(len(reorders.partner_id & self.env["res.partner"].union(*cases)), 4)

    def test_add_to_quotation_raises_the_line_of_the_salespersons_draft(self):
        suggestion = self._up_sells()
        other_draft = self._order(self.low, "E", confirm=False)
        other_draft.user_id = self.salesman_2
        own_draft = self._order(self.low, "EB", confirm=False, qty=2.0)
        own_draft.user_id = self.salesman_1
        suggestion.with_user(self.salesman_1).action_add_to_quotation()
        self.assertEqual(suggestion.order_id, own_draft)
        line = own_draft.order_line.filtered(lambda line: line.product_id == self.pro_desk)
        self.assertEqual(len(line), 1)
        self.assertAlmostEqual(line.product_uom_qty, 2.0 + suggestion.usual_qty)
        self.assertEqual(len(other_draft.order_line), 1)

    def test_contact_due_leaves_out_every_blocked_contact(self):
        company = self._customer("Rules Blocked Co", self.salesman_1)
        employee = self.env["res.partner"].create(
            {"name": "Rules Employee", "parent_id": company.id, "crm_ror_contact_frequency": 1}
        )
        blacklisted = self._customer("Rules Blacklisted", email="rules.blocked@example.com")
        free = self._customer("Rules Free")
        (blacklisted | free).crm_ror_contact_frequency = 1
        partners = employee | blacklisted | free
        partners.crm_ror_last_contact_date = fields.Date.today().replace(year=2020)
        self.assertTrue(employee.crm_ror_next_contact_date)
        company.crm_ror_do_not_contact = True
        self.assertFalse(employee.crm_ror_next_contact_date, "its company is not to be contacted")
        self.env["mail.blacklist"].create({"email": "rules.blocked@example.com"})
        view = self.env.ref("crm_ror.res_partner_view_search_crm_ror_touch")
        arch = view.arch
        start = arch.index('name="crm_ror_contact_due"')
        domain_text = arch[arch.index('domain="', start) + 8 : arch.index('"/>', start)]
        domain = safe_eval(
            domain_text.replace("&lt;", "<").replace("&gt;", ">"), {"context_today": fields.Date.today}
        )
        due = self.env["res.partner"].search([*domain, ("id", "in", partners.ids)])
        self.assertEqual(due, free)
