"""ACL matrix of every crm_ror model for each kind of user.

The models come from the registry, so a new model without a row here fails the test: decide its
access, then add it. Each cell is the read/write/create/unlink outcome of ``ir.model.access.check``
for a user holding exactly that group (and what it implies); record rules come on top (see
test_value_security.py).
"""

from odoo import Command

from ..common import CrmTransactionCase

GROUPS = {
    "portal": ["base.group_portal"],
    "salesman": ["sales_team.group_sale_salesman"],
    "salesman_all": ["sales_team.group_sale_salesman_all_leads"],
    "sales_manager": ["sales_team.group_sale_manager"],
    "loyalty_manager": ["crm_loyalty.group_crm_loyalty_manager", "base.group_user"],
    "scorecard_admin": ["crm_scorecard.group_crm_scorecard_manager"],
}

NONE = "----"
READ = "r---"
ALL = "rwcu"

# Users read what the server computes; nobody writes computed figures over RPC (profiles,
# snapshots, reports, affinities); suggestions change state only through their actions
# (written as superuser after the access check), and managers may purge them.
SALES = {"salesman": READ, "salesman_all": READ, "sales_manager": READ}
MATRIX = {
    # customer value
    "crm.ror.customer.profile": SALES,
    "crm.ror.segment.snapshot": SALES,
    "crm.ror.segment.history": SALES,
    "crm.ror.segment.transition.report": SALES,
    "crm.ror.segment": {**SALES, "sales_manager": ALL},
    # company-wide model checks, for ROR administrators; their rows are written by the computation
    "crm.ror.clv.calibration": {"sales_manager": ALL},
    "crm.ror.clv.calibration.line": {"sales_manager": READ},
    # personal touch and suggestions
    "crm.ror.key.date": {"salesman": ALL, "salesman_all": ALL, "sales_manager": ALL},
    "crm.ror.product.affinity": SALES,
    "crm.ror.suggestion": {**SALES, "sales_manager": "r--u"},
    # abstract: no data of their own
    "crm.ror.cost.to.serve": {},
    "crm.ror.segment.month": {},
    "crm.ror.scorecard.kpi": {},
    "crm.ror.lead.scorecard.kpi": {},
    "crm.ror.demo": {},  # the demo story's builder, called at install only
    # leads
    "crm.ror.nurture.rule": {**SALES, "sales_manager": ALL},
    "crm.ror.nurture.log": {**SALES, "sales_manager": ALL},
    "crm.ror.pipeline.report": SALES,
    "crm.ror.forecast.wizard": {"sales_manager": ALL},
    "crm.ror.forecast.line": {"sales_manager": ALL},
    "crm.ror.leads.needed.wizard": {"sales_manager": ALL},
    "crm.ror.leads.needed.line": {"sales_manager": ALL},
    "crm.ror.lead.reassign.wizard": {"sales_manager": ALL},
    "crm.ror.forecast.band": {"sales_manager": ALL},
    "crm.ror.temperature.calibration.report": {"sales_manager": READ},
    # campaigns, satisfaction and data quality (record rules: test_campaign_access.py)
    "crm.ror.campaign.target": {**SALES, "sales_manager": ALL},
    "crm.ror.campaign.target.wizard": {"sales_manager": ALL},
    "crm.ror.campaign.projection": {"salesman": ALL, "salesman_all": ALL, "sales_manager": ALL},
    "crm.ror.campaign.projection.line": {"salesman": ALL, "salesman_all": ALL, "sales_manager": ALL},
    "crm.ror.campaign.response.report": SALES,
    "crm.ror.nps.answer": {"salesman": "rwc-", "salesman_all": "rwc-", "sales_manager": ALL},
    "crm.ror.grievance": {"salesman": "rwc-", "salesman_all": "rwc-", "sales_manager": ALL},
    "crm.ror.data.quality": {**SALES, "sales_manager": "r--u"},
    "crm.ror.lead.data.quality": {**SALES, "sales_manager": "r--u"},
    "crm.ror.data.quality.policy": {**SALES, "sales_manager": ALL},
    "crm.ror.service.scorecard.kpi": {},
}
MODES = ("read", "write", "create", "unlink")


class TestAccessMatrix(CrmTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = {
            key: cls.env["res.users"].create(
                {
                    "name": f"ROR matrix {key}",
                    "login": f"ror_matrix_{key}",
                    "groups_id": [Command.set([cls.env.ref(xmlid).id for xmlid in xmlids])],
                }
            )
            for key, xmlids in GROUPS.items()
        }

    def test_every_model_of_the_addon_is_in_the_matrix(self):
        ours = {name for name, model in self.env.registry.items() if model._original_module == "crm_ror"}
        self.assertEqual(set(MATRIX), ours)

    def test_acl_outcomes(self):
        self.assertFalse(self.users["portal"].has_group("base.group_user"))
        mismatches = []
        for model, row in MATRIX.items():
            for group, user in self.users.items():
                expected = row.get(group, NONE)
                Access = self.env["ir.model.access"].with_user(user)
                got = "".join(
                    mode[0] if Access.check(model, mode, raise_exception=False) else "-" for mode in MODES
                )
                if got != expected:
                    mismatches.append(f"{model} / {group}: expected {expected}, got {got}")
        self.assertFalse(mismatches, "\n".join(mismatches))
