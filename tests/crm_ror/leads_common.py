"""Fixtures for the lead tests: a fresh company, sales team, salespeople and stages."""

from odoo import Command
from odoo.tools import SQL

from ..common import CrmTransactionCase


class LeadsCase(CrmTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "ROR Leads Test Co"})
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        cls.env.user.company_ids |= cls.company
        cls.leader = cls._user("ror_leader", "Lena Leader", "sales_team.group_sale_manager")
        cls.seller_a = cls._user("ror_seller_a", "Ann Seller", "sales_team.group_sale_salesman_all_leads")
        cls.seller_b = cls._user("ror_seller_b", "Bob Seller", "sales_team.group_sale_salesman_all_leads")
        cls.seller_c = cls._user("ror_seller_c", "Cid Seller", "sales_team.group_sale_salesman_all_leads")
        cls.team = cls.env["crm.team"].create(
            {
                "name": "ROR Team",
                "company_id": cls.company.id,
                "user_id": cls.leader.id,
                "use_leads": True,
                "use_opportunities": True,
                "member_ids": [Command.set((cls.seller_a | cls.seller_b | cls.seller_c).ids)],
                "temperature_hot_threshold": 60,
                "temperature_warm_threshold": 35,
                "temperature_half_life_days": 14,
                "black_hole_idle_days": 30,
            }
        )
        cls.stage_new = cls.env["crm.stage"].create(
            {"name": "ROR New", "sequence": 1, "team_id": cls.team.id}
        )
        cls.stage_won = cls.env["crm.stage"].create(
            {"name": "ROR Won", "sequence": 50, "team_id": cls.team.id, "is_won": True}
        )
        cls.customer = cls.env["res.partner"].create({"name": "Carla Customer", "email": "carla@example.com"})
        cls.source_web = cls.env["utm.source"].create({"name": "ROR Web"})
        cls.source_fair = cls.env["utm.source"].create({"name": "ROR Fair"})

    @classmethod
    def _user(cls, login, name, group):
        return cls.env["res.users"].create(
            {
                "login": login,
                "name": name,
                "email": f"{login}@example.com",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [Command.set([cls.env.ref(group).id])],
            }
        )

    def _lead(self, name, **values):
        vals = {
            "name": name,
            "type": "opportunity",
            "team_id": self.team.id,
            "user_id": self.seller_a.id,
            "company_id": self.company.id,
            "stage_id": self.stage_new.id,
            "probability": 10.0,
        }
        vals.update(values)
        return self.env["crm.lead"].create(vals)

    def _age(self, leads, when):
        """Make ``when`` the creation and last stage change of ``leads`` (their last engagement)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE crm_lead SET create_date = %s WHERE id IN %s", when, tuple(leads.ids))
        )
        leads.invalidate_recordset(["create_date"])
        leads.write({"date_last_stage_update": when})
        self.env.flush_all()

    def _set_closed(self, lead, created, closed):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET create_date = %s, date_closed = %s WHERE id = %s",
                created,
                closed,
                lead.id,
            )
        )
        lead.invalidate_recordset(["create_date", "date_closed"])

    def _win(self, lead, created, closed):
        lead.write({"stage_id": self.stage_won.id})
        self._set_closed(lead, created, closed)

    def _lose(self, lead, created, closed):
        lead.action_set_lost()
        self._set_closed(lead, created, closed)

    def _flush_tracking(self):
        """Run what a commit runs: the tracking and the once-per-transaction temperature recompute."""
        self.env.flush_all()
        self.env.cr.precommit.run()

    _commit = _flush_tracking
