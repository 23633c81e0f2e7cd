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
        self.assertFalse(self.env["crm.lead"]._cron_reassign_departed_leads()[0], "nobody left yet")
        self._flush_tracking()
        self.seller_c.action_archive()
        moved, stranded = self.env["crm.lead"]._cron_reassign_departed_leads()
        self.assertFalse(stranded)
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

    def test_departed_covers_removed_users_activities_no_team_and_archived_leader(self):
        self.seller_c.action_archive()
        call = self._lead("call planned", user_id=self.seller_c.id)
        activity = call.activity_schedule("mail.mail_activity_data_call", user_id=self.seller_c.id)
        others = call.activity_schedule("mail.mail_activity_data_email", user_id=self.seller_a.id)
        no_team = self._lead("no team", user_id=self.seller_c.id, team_id=False)
        # Bob is still active but was taken off every team
        self.team.member_ids = self.seller_a | self.seller_c
        self.assertTrue(self.env["crm.lead"].search_count([("ror_owner_departed", "=", True)]))
        bob_lead = self._lead("Bob's", user_id=self.seller_b.id)
        bob_lead.write({"team_id": self.team.id})
        team_2 = self.env["crm.team"].create(
            {"name": "Archived leader", "company_id": self.company.id, "user_id": self.seller_c.id}
        )
        leaderless = self._lead("leader left too", user_id=self.seller_c.id, team_id=team_2.id)
        self.env.flush_all()
        moved, stranded = self.env["crm.lead"]._cron_reassign_departed_leads()
        self.assertEqual((call | bob_lead).user_id, self.leader)
        self.assertEqual(moved, call | bob_lead)
        self.assertEqual(stranded, no_team | leaderless, "reported: nobody to hand them to")
        self.assertEqual(activity.user_id, self.leader, "the departed owner's activities follow the lead")
        self.assertEqual(others.user_id, self.seller_a)
        self.assertEqual(bob_lead.team_id, self.team)
        # a fallback salesperson per company takes the rest
        self.company.crm_ror_lead_fallback_user_id = self.seller_a
        moved, stranded = self.env["crm.lead"]._cron_reassign_departed_leads()
        self.assertEqual(moved, no_team | leaderless)
        self.assertFalse(stranded)
        self.assertEqual((no_team | leaderless).user_id, self.seller_a)
        self.assertEqual(leaderless.team_id, team_2, "the lead keeps its team")

    def test_round_robin_never_moves_a_lead_to_another_team_silently(self):
        outsider = self._user("ror_outsider", "Otto Outsider", "sales_team.group_sale_salesman_all_leads")
        other_team = self.env["crm.team"].create(
            {"name": "Other", "company_id": self.company.id, "member_ids": [(6, 0, outsider.ids)]}
        )
        lead = self._lead("mine", expected_revenue=100)
        wizard = self.env["crm.ror.lead.reassign.wizard"].create(
            {"lead_ids": [(6, 0, lead.ids)], "to_user_ids": [(6, 0, outsider.ids)]}
        )
        self.assertIn("keep their team", wizard.team_warning)
        wizard.action_reassign()
        self.assertEqual((lead.user_id, lead.team_id), (outsider, self.team))
        lead_2 = self._lead("mine too")
        wizard = self.env["crm.ror.lead.reassign.wizard"].create(
            {"lead_ids": [(6, 0, lead_2.ids)], "to_user_ids": [(6, 0, outsider.ids)], "team_policy": "follow"}
        )
        self.assertIn("move to their team", wizard.team_warning)
        wizard.action_reassign()
        self.assertEqual((lead_2.user_id, lead_2.team_id), (outsider, other_team))

    def test_selected_leads_dealt_biggest_first(self):
        leads = [self._lead(f"deal {amount}", expected_revenue=amount) for amount in (100, 500, 300)]
        wizard = self.env["crm.ror.lead.reassign.wizard"].create(
            {
                "lead_ids": [(6, 0, [lead.id for lead in leads])],
                "to_user_ids": [(6, 0, (self.seller_b | self.seller_c).ids)],
            }
        )
        wizard.action_reassign()
        first, second = (self.seller_b | self.seller_c).sorted("id")
        self.assertEqual([lead.user_id for lead in leads], [first, first, second])

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

    def test_cron_handover_is_set_wise_one_message_per_lead(self):
        """The handover's queries do not grow with the leads; each lead gets one chatter message that
        says why and tracks the salesperson, the new owner follows it and takes its activities."""

        def hand_over(count):
            leaver = self._user(
                f"ror_leaver_{count}", f"Leaver {count}", "sales_team.group_sale_salesman_all_leads"
            )
            self.team.member_ids |= leaver
            # archived first: archiving a user deletes his activities
            leaver.action_archive()
            leads = self.env["crm.lead"].browse()
            for index in range(count):
                leads |= self._lead(f"left {count}-{index}", user_id=leaver.id)
            calls = self.env["mail.activity"].browse()
            for lead in leads:
                calls |= lead.activity_schedule("mail.mail_activity_data_call", user_id=leaver.id)
            self._flush_tracking()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            moved, stranded = self.env["crm.lead"]._cron_reassign_departed_leads()
            self.env.flush_all()
            queries = self.env.cr.sql_log_count - before
            self._flush_tracking()
            self.assertEqual((moved, stranded), (leads, self.env["crm.lead"]))
            return leads, calls, leaver, queries

        _leads, _calls, _leaver, few = hand_over(2)
        leads, calls, leaver, many = hand_over(8)
        self.assertEqual(many, few, "the handover is set-wise")
        self.assertEqual(leads.user_id, self.leader)
        self.assertEqual(calls.user_id, self.leader)
        for lead in leads:
            self.assertIn(self.leader.partner_id, lead.message_partner_ids)
            since = lead.message_ids.filtered(
                lambda msg: "Reassigned from" in (msg.body or "") or msg.tracking_value_ids
            ).filtered(
                lambda msg: any(t.field_id.name == "user_id" for t in msg.tracking_value_ids)
                or "Reassigned" in msg.body
            )
            self.assertEqual(len(since), 1, "one message: the reason and the tracked salesperson")
            self.assertIn("Leaver 8", since.body)
            tracked = since.tracking_value_ids.filtered(lambda t: t.field_id.name == "user_id")
            self.assertEqual(
                (
                    tracked.old_value_integer,
                    tracked.new_value_integer,
                    tracked.old_value_char,
                    tracked.new_value_char,
                ),
                (leaver.id, self.leader.id, "Leaver 8", "Lena Leader"),
            )
