"""Fixtures for the personal-touch and suggestion tests: a fresh company, products, customers."""

from datetime import timedelta

from odoo import Command, fields

from ..common import CrmTransactionCase


class TouchCase(CrmTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create(
            {"name": "Touch Furniture", "currency_id": cls.env.ref("base.EUR").id}
        )
        cls.env.user.company_ids |= cls.company
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        cls.company.write(
            {
                "crm_ror_affinity_min_support": 0.3,
                "crm_ror_affinity_min_lift": 1.1,
                "crm_ror_reorder_min_purchases": 3,
                "crm_ror_reorder_tolerance": 1.2,
                "crm_ror_suggestion_max_per_customer": 5,
                "crm_ror_suggestion_cooldown_days": 90,
            }
        )
        cls.salesman_1 = cls._make_user("touch_sales_1", "Sally Seller")
        cls.salesman_2 = cls._make_user("touch_sales_2", "Sam Seller")
        cls.category = cls.env["product.category"].create({"name": "Touch Office"})
        cls.products = {
            code: cls.env["product.product"].create(
                {"name": name, "list_price": price, "categ_id": cls.category.id, "type": "consu"}
            )
            for code, name, price in [
                ("A", "Touch Desk", 100.0),
                ("B", "Touch Chair", 50.0),
                ("C", "Touch Lamp", 20.0),
                ("D", "Touch Shelf", 80.0),
            ]
        }

    @classmethod
    def _make_user(cls, login, name):
        return cls.env["res.users"].create(
            {
                "login": login,
                "name": name,
                "email": f"{login}@example.com",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [Command.set([cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )

    @classmethod
    def _customer(cls, name, user=None, **values):
        return cls.env["res.partner"].create(
            {"name": name, "is_company": True, "user_id": user.id if user else False, **values}
        )

    @classmethod
    def _order(cls, partner, codes, days_ago=0, qty=1.0, confirm=True, price=None):
        order = cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "company_id": cls.company.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": cls.products[code].id,
                            "product_uom_qty": qty,
                            "price_unit": price if price is not None else cls.products[code].list_price,
                            "tax_id": False,
                        }
                    )
                    for code in codes
                ],
            }
        )
        if confirm:
            order.action_confirm()
            order.date_order = fields.Datetime.now() - timedelta(days=days_ago)
        return order
