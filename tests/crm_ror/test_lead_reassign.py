"""Leads of departed salespeople: to the team leader (cron) or round-robin (wizard), history kept."""

from odoo.exceptions import UserError

from .leads_common import LeadsCase


class TestLeadReassign(LeadsCase):
    def _notes(self, lead):
        return lead.message_ids.filtered(lambda msg: "Reassigned from" in (msg.body or ""))

    def test_cron_moves_open_leads_of_archived_users_to_the_team_leader(self):
        open_1 = self._lead("open 1", user_id=self.seller_c.id)
        open_2 = self._lead("open 2", user_id=self.seller_c.id)
        won = self._lead("won", user_id=self.seller_c.id)
        won.write({"stage_id": self.stage_won.id})
        other = self._lead("other", user_id=self.seller_a.id)
        self.assertFalse(self.env["crm.lead"]._cron_reassign_departed_leads(), "nobody left yet")
        self._flush_tracking()
        self.seller_c.action_archive()
        moved = self.env["crm.lead"]._cron_reassign_departed_leads()
        self.assertEqual(moved, open_1 | open_2)
        self.assertEqual((open_1 | open_2).user_id, self.leader)
        self.assertEqual(won.user_id, self.seller_c, "closed leads keep their history")
        self.assertEqual(other.user_id, self.seller_a)
        self.assertIn("Cid Seller", self._notes(open_1).body)
        self._flush_tracking()
        tracked = self.env["mail.tracking.value"].search(
            [
                ("mail_message_id.model", "=", "crm.lead"),
                ("mail_message_id.res_id", "=", open_1.id),
                ("field_id.name", "=", "user_id"),
            ]
        )
        self.assertEqual((tracked.old_value_char, tracked.new_value_char), ("Cid Seller", "Lena Leader"))

    def test_wizard_suggests_departed_owners(self):
        self._lead("left behind", user_id=self.seller_c.id)
        self._lead("still here", user_id=self.seller_b.id)
        self.seller_c.action_archive()
        wizard = self.env["crm.ror.lead.reassign.wizard"].create({"to_user_ids": [(6, 0, self.seller_a.ids)]})
        self.assertEqual(wizard.from_user_ids, self.seller_c)
        wizard.action_reassign()
        self.assertFalse(self.env["crm.lead"].search_count([("user_id", "=", self.seller_c.id)]))

    def test_wizard_round_robin_biggest_first(self):
        leads = [
            self._lead(f"deal {amount}", expected_revenue=amount) for amount in (100, 500, 300, 400, 200)
        ]
        self._lead("not mine", user_id=self.seller_c.id, expected_revenue=900)
        wizard = self.env["crm.ror.lead.reassign.wizard"].create(
            {
                "from_user_ids": [(6, 0, self.seller_a.ids)],
                "to_user_ids": [(6, 0, (self.seller_b | self.seller_c).ids)],
                "mode": "round_robin",
            }
        )
        wizard.action_reassign()
        owners = {lead.expected_revenue: lead.user_id for lead in leads}
        first, second = (self.seller_b | self.seller_c).sorted("id")
        # 500, 300, 100 to the first; 400, 200 to the second
        self.assertEqual(owners, {500: first, 400: second, 300: first, 200: second, 100: first})
        self.assertTrue(all(self._notes(lead) for lead in leads))

    def test_wizard_on_selected_leads_and_team_leader_mode(self):
        lead_1 = self._lead("one")
        lead_2 = self._lead("two", user_id=self.seller_b.id)
        wizard = (
            self.env["crm.ror.lead.reassign.wizard"]
            .with_context(active_model="crm.lead", active_ids=(lead_1 | lead_2).ids)
            .create({"mode": "team_leader"})
        )
        self.assertEqual(wizard.lead_ids, lead_1 | lead_2)
        wizard.action_reassign()
        self.assertEqual((lead_1 | lead_2).user_id, self.leader)
        empty = self.env["crm.ror.lead.reassign.wizard"].create({"mode": "round_robin"})
        with self.assertRaises(UserError):
            empty.action_reassign()
