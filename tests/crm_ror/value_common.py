"""Fixtures of the customer value tests: two companies with a chart of accounts, customers, invoices."""

from datetime import timedelta

import numpy as np

from odoo import Command, fields
from odoo.addons.crm_ror.models.crm_ror_customer_profile import QUEUE_JOBS_PARAM, VALUE_COLUMNS
from odoo.tools import SQL

from ..common import CrmTransactionCase


class CrmRorValueCase(CrmTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # queue_job is installed in the test database: the profile cron computes its chunks itself
        # here; tests/crm_ror/test_profile_jobs.py covers the chunks as jobs.
        cls.env["ir.config_parameter"].set_param(QUEUE_JOBS_PARAM, "False")
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.usd = cls.env.ref("base.USD")
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.company_a = cls._make_company("ROR Company A", cls.usd)
        cls.company_b = cls._make_company("ROR Company B", cls.eur)
        # 1 USD = 2 EUR in company A.
        cls.env["res.currency.rate"].create(
            {"currency_id": cls.eur.id, "company_id": cls.company_a.id, "name": "2000-01-01", "rate": 2.0}
        )
        cls.env.user.company_ids |= cls.company_a | cls.company_b
        cls.product = cls.env["product.product"].create(
            {"name": "ROR Widget", "type": "consu", "list_price": 100.0, "taxes_id": [Command.clear()]}
        )
        cls.product.with_company(cls.company_a).standard_price = 30.0
        cls.product.with_company(cls.company_b).standard_price = 400.0
        Partner = cls.env["res.partner"]
        cls.p1 = Partner.create({"name": "ROR Acme", "is_company": True})
        cls.p1_contact = Partner.create({"name": "ROR Acme Buyer", "parent_id": cls.p1.id})
        cls.p2 = Partner.create({"name": "ROR Reversed"})
        cls.p3 = Partner.create({"name": "ROR Refund Only"})
        cls.p4 = Partner.create({"name": "ROR Prospect"})
        cls.p5 = Partner.create({"name": "ROR Other Company"})
        cls.p6 = Partner.create({"name": "ROR Newcomer"})
        cls.p7 = Partner.create({"name": "ROR Sleeper"})

    @classmethod
    def _make_company(cls, name, currency):
        company = cls.env["res.company"].create(
            {"name": name, "currency_id": currency.id, "country_id": cls.env.ref("base.us").id}
        )
        cls.env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        company.currency_id = currency  # the chart template sets its own currency
        return company

    @classmethod
    def _profile_figures(cls, company, *extra):
        """Every figure a run computes (``VALUE_COLUMNS``) of the company's profiles, by customer, after
        the ``extra`` columns (e.g. ``computed_at``)."""
        cls.env.flush_all()
        return cls.env.execute_query(
            SQL(
                "SELECT partner_id, %s FROM crm_ror_customer_profile WHERE company_id = %s ORDER BY partner_id",
                SQL(", ").join(map(SQL.identifier, (*extra, *VALUE_COLUMNS))),
                company.id,
            )
        )

    @classmethod
    def _days_ago(cls, days):
        return cls.today - timedelta(days=days)

    @classmethod
    def _invoice(cls, company, partner, days_ago, lines, currency=None, move_type="out_invoice", post=True):
        """``lines``: [(quantity, price_unit, discount)] of the widget, without taxes."""
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": cls._days_ago(days_ago),
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "quantity": quantity,
                                "price_unit": price,
                                "discount": discount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for quantity, price, discount in lines
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _post_clv_story(cls, count, name):
        """``count`` customers whose purchases over two years follow the MBG/NBD story and whose spend
        follows the Gamma-Gamma one (seeded: the same histories in every test), posted as invoices of
        company A; returns the customers."""
        rng = np.random.default_rng(42)
        partners = cls.env["res.partner"].create([{"name": f"{name} {i}"} for i in range(count)])
        vals_list = []
        for partner in partners:
            rate, dropout = rng.gamma(1.0, 1 / 8.0), rng.beta(1.0, 3.0)
            spend_rate = rng.gamma(4.0, 1 / 75.0)
            start = int(rng.integers(0, 300))
            day, days = 730 - start, [730 - start]
            while True:
                day -= int(rng.exponential(7 / rate)) + 1
                # MBG/NBD's story (the default model): a customer may drop out after any purchase.
                if day < 1 or rng.random() < dropout:
                    break
                days.append(day)
            vals_list += [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": cls._days_ago(days_ago),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "quantity": 1,
                                "price_unit": float(round(rng.gamma(6.0, 1 / spend_rate), 2)),
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
                for days_ago in days
            ]
        cls.env["account.move"].with_company(cls.company_a).create(vals_list).action_post()
        return partners

    def _compute(self, companies=None, reference_date=None):
        self.env["crm.ror.customer.profile"]._compute_profiles(
            companies or (self.company_a | self.company_b), reference_date=reference_date
        )

    def _profile(self, partner, company=None):
        return self.env["crm.ror.customer.profile"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", (company or self.company_a).id)]
        )


class CrmRorScenarioCase(CrmRorValueCase):
    """Company A: Acme (2 purchases, one in EUR with a discount, a partial credit note), a customer whose
    only invoice was fully reversed, one with a credit note only, a newcomer, a sleeper; company B apart."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a, b = cls.company_a, cls.company_b
        cls.inv1 = cls._invoice(a, cls.p1, 172, [(2, 100.0, 0.0)])
        # 300 EUR - 10 % = 270 EUR = 135 USD; discount granted 30 EUR = 15 USD.
        cls.inv2 = cls._invoice(a, cls.p1_contact, 112, [(1, 300.0, 10.0)], currency=cls.eur)
        cls.refund1 = cls._invoice(a, cls.p1, 100, [(1, 50.0, 0.0)], move_type="out_refund")
        reversed_invoice = cls._invoice(a, cls.p2, 60, [(1, 100.0, 0.0)])
        reversed_invoice._reverse_moves(
            [{"invoice_date": cls._days_ago(55), "date": cls._days_ago(55)}], cancel=True
        )
        cls.reversed_invoice = reversed_invoice
        cls._invoice(a, cls.p3, 30, [(1, 40.0, 0.0)], move_type="out_refund")
        cls._invoice(a, cls.p6, 10, [(1, 100.0, 0.0)])
        cls._invoice(a, cls.p7, 800, [(1, 100.0, 0.0)])
        cls._invoice(a, cls.p4, 5, [(1, 100.0, 0.0)], post=False)  # a draft is no purchase
        cls._invoice(b, cls.p5, 20, [(1, 500.0, 0.0)])
        cls._invoice(b, cls.p1, 5, [(2, 500.0, 0.0)])

        # Cost to serve: one campaign contact by phone (10 in A, 99 in B) and one call (5 in A).
        cls.medium = cls.env["utm.medium"].create({"name": "ROR Phone"})
        cls.medium.with_company(a).ror_contact_cost = 10.0
        cls.medium.with_company(b).ror_contact_cost = 99.0
        campaign = cls.env["utm.campaign"].create({"name": "ROR Spring"})
        Lead = cls.env["crm.lead"]
        for company in (a, b):
            Lead.with_company(company).create(
                {
                    "name": f"ROR lead {company.name}",
                    "partner_id": cls.p1_contact.id,
                    "company_id": company.id,
                    "campaign_id": campaign.id,
                    "medium_id": cls.medium.id,
                }
            )
        Lead.with_company(a).create(
            {"name": "ROR lead without campaign", "partner_id": cls.p6.id, "company_id": a.id}
        )
        cls.call = cls.env["mail.activity.type"].create({"name": "ROR Call", "category": "phonecall"})
        cls.call.with_company(a).ror_cost = 5.0
        activity = (
            cls.env["mail.activity"]
            .with_company(a)
            .create(
                {
                    "res_model_id": cls.env["ir.model"]._get_id("res.partner"),
                    "res_id": cls.p1.id,
                    "activity_type_id": cls.call.id,
                    "user_id": cls.env.uid,
                }
            )
        )
        activity.action_feedback(feedback="Called")
