"""Access to the campaign, satisfaction, grievance and data-quality models per group, and their rules."""

from odoo.exceptions import AccessError

from .campaign_common import CrmRorCampaignCase

# Expected model access (read, write, create, unlink) per group.
MATRIX = {
    "crm.ror.campaign.target": {
        "portal": "----",
        "salesman": "r---",
        "salesman_all": "r---",
        "manager": "rwcu",
    },
    "crm.ror.campaign.target.wizard": {
        "portal": "----",
        "salesman": "----",
        "salesman_all": "----",
        "manager": "rwcu",
    },
    "crm.ror.campaign.projection": {
        "portal": "----",
        "salesman": "rwcu",
        "salesman_all": "rwcu",
        "manager": "rwcu",
    },
    "crm.ror.nps.answer": {"portal": "----", "salesman": "rwc-", "salesman_all": "rwc-", "manager": "rwcu"},
    "crm.ror.grievance": {"portal": "----", "salesman": "rwc-", "salesman_all": "rwc-", "manager": "rwcu"},
    "crm.ror.data.quality": {"portal": "----", "salesman": "r---", "salesman_all": "r---", "manager": "r--u"},
    "crm.ror.campaign.response.report": {
        "portal": "----",
        "salesman": "r---",
        "salesman_all": "r---",
        "manager": "r---",
    },
    "crm.ror.lead.data.quality": {
        "portal": "----",
        "salesman": "r---",
        "salesman_all": "r---",
        "manager": "r--u",
    },
    "crm.ror.data.quality.policy": {
        "portal": "----",
        "salesman": "r---",
        "salesman_all": "r---",
        "manager": "rwcu",
    },
}
OPERATIONS = ("read", "write", "create", "unlink")


class TestCampaignAccess(CrmRorCampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = {
            "portal": "base.group_portal",
            "salesman": "sales_team.group_sale_salesman",
            "salesman_all": "sales_team.group_sale_salesman_all_leads",
            "manager": "sales_team.group_sale_manager",
        }
        cls.users = {
            key: cls.env["res.users"].create(
                {
                    "name": f"ROR Access {key}",
                    "login": f"ror_access_{key}",
                    "company_id": cls.company_a.id,
                    "company_ids": [(6, 0, cls.company_a.ids)],
                    "groups_id": [(6, 0, [cls.env.ref(xmlid).id])],
                }
            )
            for key, xmlid in groups.items()
        }
        salesman = cls.users["salesman"]
        cls.own = cls.env["res.partner"].create(
            {"name": "ROR Own", "is_company": True, "user_id": salesman.id}
        )
        cls.foreign = cls.env["res.partner"].create({"name": "ROR Foreign", "is_company": True})
        campaign = cls._campaign("ROR Access")
        cls.targets = cls._target(campaign, cls.own, 5) | cls._target(campaign, cls.foreign, 5)
        campaign_b = cls._campaign("ROR Access B", company=cls.company_b)
        cls.target_b = cls._target(campaign_b, cls.own, 5)
        Answer = cls.env["crm.ror.nps.answer"]
        cls.answers = Answer.create(
            [
                {"partner_id": cls.own.id, "company_id": cls.company_a.id, "score": 9},
                {"partner_id": cls.foreign.id, "company_id": cls.company_a.id, "score": 2},
            ]
        )
        cls.answer_b = Answer.create({"partner_id": cls.own.id, "company_id": cls.company_b.id, "score": 5})
        cls.grievances = cls.env["crm.ror.grievance"].create(
            [
                {
                    "name": "ROR own",
                    "partner_id": cls.own.id,
                    "company_id": cls.company_a.id,
                    "user_id": False,
                },
                {
                    "name": "ROR foreign",
                    "partner_id": cls.foreign.id,
                    "company_id": cls.company_a.id,
                    "user_id": False,
                },
            ]
        )

    def test_acl_matrix(self):
        for model, expected in MATRIX.items():
            for key, rights in expected.items():
                Model = self.env[model].with_user(self.users[key])
                for operation, flag in zip(OPERATIONS, rights, strict=True):
                    with self.subTest(model=model, group=key, operation=operation):
                        self.assertEqual(Model.has_access(operation), flag != "-")

    def test_portal_reads_nothing(self):
        with self.assertRaises(AccessError):
            self.targets.with_user(self.users["portal"]).read(["partner_id"])
        with self.assertRaises(AccessError):
            self.answers.with_user(self.users["portal"]).read(["score"])

    def test_rules_own_all_and_company(self):
        salesman, salesman_all, manager = (self.users[key] for key in ("salesman", "salesman_all", "manager"))
        for model, records, record_b in (
            ("crm.ror.campaign.target", self.targets, self.target_b),
            ("crm.ror.nps.answer", self.answers, self.answer_b),
        ):
            with self.subTest(model=model):
                own = records.filtered(lambda r: r.partner_id == self.own)
                self.assertEqual(self.env[model].with_user(salesman).search([("id", "in", records.ids)]), own)
                for user in (salesman_all, manager):
                    seen = self.env[model].with_user(user).search([("id", "in", (records | record_b).ids)])
                    self.assertEqual(seen, records, "all customers of the user's companies, none of B")
        grievances = (
            self.env["crm.ror.grievance"].with_user(salesman).search([("id", "in", self.grievances.ids)])
        )
        self.assertEqual(grievances.partner_id, self.own)

    def test_salesman_cannot_select_targets_or_compute(self):
        campaign = self.targets.campaign_id
        with self.assertRaises(AccessError):
            campaign.with_user(self.users["salesman"]).action_crm_ror_refresh()
        with self.assertRaises(AccessError):
            self.env["crm.ror.campaign.target.wizard"].with_user(self.users["salesman"]).create(
                {"campaign_id": campaign.id}
            )
        # The manager can.
        campaign.with_user(self.users["manager"]).action_crm_ror_refresh()
        self.assertTrue(campaign.crm_ror_refreshed_at)
