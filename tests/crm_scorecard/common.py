"""Fixtures of the crm_scorecard tests: two companies, their teams, a query KPI."""

import datetime
from contextlib import contextmanager

from odoo import Command

from ..common import CrmTransactionCase


class ScorecardCase(CrmTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env["res.company"].create({"name": "Scorecard Co A"})
        cls.company_b = cls.env["res.company"].create({"name": "Scorecard Co B"})
        cls.env.user.write(
            {
                "company_ids": [Command.link(cls.company_a.id), Command.link(cls.company_b.id)],
                "tz": "UTC",
            }
        )
        cls.owner = cls.env["res.users"].create(
            {
                "name": "Scorecard Owner",
                "login": "scorecard_owner",
                "tz": "Pacific/Auckland",
                "company_id": cls.company_a.id,
                "company_ids": [Command.set([cls.company_a.id, cls.company_b.id])],
                "groups_id": [Command.link(cls.env.ref("sales_team.group_sale_manager").id)],
            }
        )
        cls.team_a = cls.env["crm.team"].create({"name": "Team A", "company_id": cls.company_a.id})
        cls.team_a2 = cls.env["crm.team"].create({"name": "Team A2", "company_id": cls.company_a.id})
        cls.team_b = cls.env["crm.team"].create({"name": "Team B", "company_id": cls.company_b.id})
        cls.kpi_leads = cls.env["crm.scorecard.kpi"].create(
            {
                "name": "Test leads created",
                "code": "test_leads_created",
                "source": "query",
                "model_id": cls.env.ref("crm.model_crm_lead").id,
                "domain": "[]",
                "date_field_id": cls.env.ref("crm.field_crm_lead__create_date").id,
                "aggregate": "count",
            }
        )

    @contextmanager
    def assertRaisesNamed(self, exception, pattern):
        """Like assertRaisesRegex, with the savepoint of Odoo's assertRaises (the failed
        record does not stay in the transaction)."""
        with self.assertRaises(exception) as caught:
            yield caught
        self.assertRegex(str(caught.exception), pattern)

    @classmethod
    def _lead(cls, company, team, created, **values):
        lead = cls.env["crm.lead"].create(
            dict(
                {"name": "Lead", "company_id": company.id, "team_id": team.id, "type": "opportunity"},
                **values,
            )
        )
        lead.flush_recordset()
        cls.env.cr.execute("UPDATE crm_lead SET create_date = %s WHERE id = %s", (created, lead.id))
        if "date_closed" in values:
            cls.env.cr.execute(
                "UPDATE crm_lead SET date_closed = %s WHERE id = %s", (values["date_closed"], lead.id)
            )
        lead.invalidate_recordset()
        return lead

    @classmethod
    def _scorecard(cls, company, team=None, lines=(), owner=None, **values):
        """A scorecard with the four default perspectives and ``lines`` (dicts with a kind)."""
        scorecard = cls.env["crm.scorecard"].create(
            dict(
                {
                    "name": f"Scorecard {company.name} {team.name if team else ''}",
                    "company_id": company.id,
                    "team_id": team.id if team else False,
                    "user_id": (owner or cls.env.user).id,
                    "period_type": "month",
                    "perspective_ids": [
                        Command.create({"name": kind, "kind": kind, "sequence": index})
                        for index, kind in enumerate(("financial", "customer", "process", "learning"))
                    ],
                },
                **values,
            )
        )
        perspectives = {p.kind: p for p in scorecard.perspective_ids}
        for line in lines:
            values = dict(line)
            kind = values.pop("kind", "customer")
            cls.env["crm.scorecard.line"].create(
                dict(values, scorecard_id=scorecard.id, perspective_id=perspectives[kind].id)
            )
        return scorecard


JAN = datetime.date(2025, 1, 15)
