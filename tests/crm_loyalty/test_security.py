"""No RPC call can move a ledger balance or a tier: context keys authorise nothing.

Every call below is one an RPC client can make (public method, any context); each must change no
balance and no ledger line, for a salesperson and for the Settings administrator alike.
"""

from unittest.mock import patch

from odoo import Command, fields
from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG
from odoo.exceptions import AccessError, UserError

from .common import LedgerCase
from .tiers_common import LoyaltyCase

# every context key the ledger ever trusted, and the one that hides the chatter trace
FORGED = {
    "crm_loyalty_posting": True,
    "crm_loyalty_stock_skip": True,
    "crm_loyalty_tier_evaluating": True,
    "tracking_disable": True,
}


class TestLedgerForgery(LedgerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = cls.env["res.users"].create(
            {
                "name": "Forging Salesman",
                "login": "forging_salesman",
                "groups_id": [Command.set([cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        cls.partner.user_id = cls.salesman
        cls.admin = cls.env.ref("base.user_admin")
        cls.card._ledger_post("adjust", 100, reason="opening")
        cls.program.reward_ids.required_points = 50

    def _snapshot(self):
        self.env.invalidate_all()
        lines = self._ledger()
        return self.card.points, lines.ids, [(line.points, line.balance_after) for line in lines]

    def _assert_refused(self, call):
        before = self._snapshot()
        with self.assertRaises(UserError):
            call()
        self.assertEqual(self._snapshot(), before, "a refused call changes no balance and no ledger line")

    def test_forged_point_write_is_refused(self):
        for user in (self.salesman, self.admin):
            with self.subTest(user=user.login):
                card = self.card.with_user(user).with_context(**FORGED)
                self._assert_refused(lambda card=card: card.write({"points": 5000}))

    def test_forged_history_line_is_refused(self):
        for user in (self.salesman, self.admin):
            for vals in (
                {"move_type": "adjust", "issued": 500, "reason": "forged"},
                {"issued": 500},
            ):
                with self.subTest(user=user.login, vals=vals):
                    history = self.env["loyalty.history"].with_user(user).with_context(**FORGED)
                    self._assert_refused(
                        lambda history=history, vals=vals: history.create(
                            {"card_id": self.card.id, "description": "forged", **vals}
                        )
                    )

    def test_forged_history_line_on_a_stock_card_is_refused(self):
        # a typed line on a non-ledger card would count in the ledger reports
        stock_program = self.program.copy({"ledger_enabled": False, "name": "Stock"})
        card = self.env["loyalty.card"].create(
            {"program_id": stock_program.id, "partner_id": self.partner.id}
        )
        history = self.env["loyalty.history"].with_user(self.admin).with_context(**FORGED)
        with self.assertRaises(UserError):
            history.create({"card_id": card.id, "description": "forged", "move_type": "earn", "issued": 5})

    def test_forged_rewrite_of_a_legacy_line_is_refused(self):
        # a history line from before the ledger was enabled (no type) on a card now on the ledger
        program = self.program.copy({"ledger_enabled": False, "name": "Legacy"})
        card = self.env["loyalty.card"].create({"program_id": program.id, "partner_id": self.partner.id})
        legacy = self.env["loyalty.history"].create({"card_id": card.id, "description": "stock", "issued": 5})
        card.points = 5
        program.ledger_enabled = True
        self.assertFalse(legacy.move_type)
        for user in (self.salesman, self.admin):
            with self.subTest(user=user.login):
                line = legacy.with_user(user).with_context(**FORGED)
                self._assert_refused(lambda line=line: line.write({"issued": 999}))
                self._assert_refused(lambda line=line: line.write({"move_type": "earn"}))

    def test_forged_lot_consumption_is_refused(self):
        lot = self._ledger()[:1]
        consumption = self.env["crm.loyalty.lot.consumption"].with_user(self.admin).with_context(**FORGED)
        self._assert_refused(lambda: consumption.create({"line_id": lot.id, "lot_id": lot.id, "points": 100}))

    def test_stock_balance_wizard_is_refused_even_for_the_admin(self):
        for user in (self.salesman, self.admin):
            with self.subTest(user=user.login):
                wizard = (
                    self.env["loyalty.card.update.balance"]
                    .with_user(user)
                    .with_context(**FORGED)
                    .create({"card_id": self.card.id, "new_balance": 9999, "description": "forged"})
                )
                self._assert_refused(wizard.action_update_card_point)

    def test_forged_card_creation_with_points_is_refused(self):
        # (corrected: the test was named "refused" but asserted that the Settings admin opens a
        # card with points, an "Initial balance" without reason; a balance is set only through
        # the adjustment action, so the admin is refused as well)
        for user in (self.salesman, self.admin):
            with self.subTest(user=user.login):
                cards = self.env["loyalty.card"].with_user(user).with_context(**FORGED)
                count = self.env["loyalty.history"].search_count([("program_id", "=", self.program.id)])
                card_count = len(self.program.with_context(active_test=False).coupon_ids)
                with self.assertRaises(UserError):
                    cards.create({"program_id": self.program.id, "partner_id": self.partner.id, "points": 7})
                self.assertEqual(
                    self.env["loyalty.history"].search_count([("program_id", "=", self.program.id)]), count
                )
                self.program.invalidate_recordset()
                self.assertEqual(len(self.program.with_context(active_test=False).coupon_ids), card_count)
        # at 0 points the admin opens a card, and the adjustment action gives it its balance
        card = (
            self.env["loyalty.card"]
            .with_user(self.admin)
            .create({"program_id": self.program.id, "partner_id": self.partner.id})
        )
        self.assertEqual((card.points, self._ledger(card).ids), (0, []))

    def test_generated_ledger_coupons_post_their_issue_with_a_reason(self):
        # the generate wizard is the program's own issuance: it posts the points it grants
        self.env["loyalty.generate.wizard"].with_user(self.admin).with_context(
            active_id=self.program.id, **FORGED
        ).create(
            {"mode": "selected", "customer_ids": [Command.set(self.partner.ids)], "points_granted": 15}
        ).generate_coupons()
        card = self.program.coupon_ids - self.card
        self.assertEqual(card.points, 15)
        line = self._ledger(card)
        self.assertEqual(line.mapped("move_type"), ["adjust"])
        self.assertIn("Issued by", line.reason)
        self.assertBalanced(card)

    def test_moving_a_ledger_card_to_another_program_is_refused(self):
        other = self.program.copy({"ledger_enabled": False, "name": "Other"})
        self._assert_refused(lambda: self.card.with_user(self.admin).write({"program_id": other.id}))

    def test_moving_a_card_onto_a_ledger_program_with_points_is_refused(self):
        # a card of a program without ledger takes any balance; moving it onto a ledger program
        # would land that balance there with no ledger line
        plain = self.program.copy({"ledger_enabled": False, "name": "Plain"})
        for user in (self.salesman, self.admin):
            with self.subTest(user=user.login):
                stray = self.env["loyalty.card"].create({"program_id": plain.id, "points": 5})
                with self.assertRaises(UserError):
                    stray.with_user(user).with_context(**FORGED).write(
                        {"points": 1e6, "program_id": self.program.id}
                    )
                with self.assertRaises(UserError):
                    stray.with_user(user).write({"program_id": self.program.id})
                self.assertEqual((stray.program_id, stray.points), (plain, 5))
                # an empty card may move: it opens on the ledger at 0
                empty = self.env["loyalty.card"].create({"program_id": plain.id, "points": 0})
                empty.with_user(user).write({"program_id": self.program.id})
                self.assertEqual((empty.program_id, empty.points), (self.program, 0))
                self.assertBalanced(empty)

    def test_moving_a_ledger_balance_to_another_customer_is_refused(self):
        other = self.env["res.partner"].create({"name": "Other Customer", "user_id": self.salesman.id})
        for user in (self.salesman, self.admin):
            with self.subTest(user=user.login):
                before = self._snapshot()
                with self.assertRaises(UserError):
                    self.card.with_user(user).with_context(**FORGED).write({"partner_id": other.id})
                self.assertEqual(self.card.partner_id, self.partner)
                self.assertEqual(self._snapshot(), before)

    def test_a_client_context_does_not_commit(self):
        # ir_cron_progress_id comes from the client like any key: it never makes a request commit
        progress = self.env["ir.cron.progress"].create(
            {"cron_id": self.env.ref("crm_loyalty.ir_cron_tier_requalify").id}
        )
        history = self.env["loyalty.history"].with_context(ir_cron_progress_id=progress.id)
        with (
            patch("odoo.addons.crm_loyalty.models.loyalty_history.odoo_module.current_test", None),
            patch.object(type(self.env.registry), "in_test_mode", lambda registry: False),
            patch.object(self.env.cr, "commit") as commit,
        ):
            history._cron_commit_batch(1, 0)
            self.assertFalse(commit.called, "a context key made the request commit")
            history._cron_commit_batch(1, 0, commit=True)
            self.assertTrue(commit.called, "the scheduled entry point commits its batches")

    def test_the_adjustment_action_is_the_way(self):
        wizard = (
            self.env["crm.loyalty.adjust.wizard"]
            .with_user(self.admin)
            .create({"card_id": self.card.id, "points": -30, "reason": "Goodwill revoked"})
        )
        wizard.action_post()
        self.assertEqual(self.card.points, 70)
        self.assertEqual(self._ledger()[-1].user_id, self.admin)
        self.assertBalanced()

    def test_confirming_an_order_still_posts_for_a_salesman(self):
        order = self._order(qty=2).with_user(self.salesman).with_context(**FORGED)
        order.action_confirm()
        self.assertEqual(self.card.points, 300)
        # (stock sale_loyalty lets only sales managers cancel an order holding coupon points)
        order.with_user(self.env.ref("base.user_admin"))._action_cancel()
        self.assertEqual(self.card.points, 100)
        self.assertBalanced()

    def test_ledger_sources_are_kept(self):
        self.program.earn_trigger = "invoice"
        order = self._order()
        order.action_confirm()
        invoice = self._invoice(order)
        order._action_cancel()
        with self.assertRaises(UserError):
            order.unlink()
        invoice.button_draft()
        with self.assertRaises(UserError):
            invoice.unlink()
        sources = self._ledger().mapped(lambda line: (line.sale_order_id, line.invoice_id))
        self.assertIn((order, invoice), sources)
        # A module uninstall removes its own (demo) documents without the users' guards: the
        # lines stay and still name their document through stock's order_model/order_id.
        lines = self._ledger().filtered(lambda line: line.invoice_id == invoice)
        self.assertTrue(lines)
        invoice.with_context(**{MODULE_UNINSTALL_FLAG: True}).unlink()
        self.assertTrue(lines.exists())
        self.assertEqual(
            {(line.order_model, line.order_id) for line in lines}, {("account.move", invoice.id)}
        )


class TestManualTier(LedgerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.crm_tier_ids = [
            Command.create({"name": "Silver", "min_amount": 1000.0, "multiplier": 1.0}),
            Command.create({"name": "Gold", "min_amount": 5000.0, "multiplier": 1.0}),
        ]
        cls.silver, cls.gold = cls.program.crm_tier_ids.sorted("min_amount")
        cls.salesman = cls.env["res.users"].create(
            {
                "name": "Tier Salesman",
                "login": "tier_salesman",
                "groups_id": [Command.set([cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        cls.manager = cls.env["res.users"].create(
            {
                "name": "Loyalty Manager",
                "login": "tier_loyalty_manager",
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("sales_team.group_sale_salesman").id,
                            cls.env.ref("crm_loyalty.group_crm_loyalty_manager").id,
                        ]
                    )
                ],
            }
        )

    def test_tier_write_is_refused_for_everyone(self):
        for user in (self.salesman, self.manager, self.env.ref("base.user_admin")):
            with self.subTest(user=user.login):
                with self.assertRaises(UserError):
                    self.card.with_user(user).with_context(**FORGED).write({"crm_tier_id": self.gold.id})
                self.assertFalse(self.card.crm_tier_id)
                self.assertFalse(self.card.crm_tier_history_ids)

    def test_manual_change_needs_the_manager_and_a_reason(self):
        with self.assertRaises(AccessError):
            self.card.with_user(self.salesman)._crm_tier_set_manual(self.gold, "I like him")
        wizard = self.env["crm.loyalty.tier.wizard"].with_user(self.manager)
        with self.assertRaises(UserError):
            wizard.create({"card_id": self.card.id, "tier_id": self.gold.id, "reason": "  "}).action_apply()
        self.assertFalse(self.card.crm_tier_id)
        wizard.create(
            {"card_id": self.card.id, "tier_id": self.gold.id, "reason": "Key account"}
        ).action_apply()
        self.assertEqual(self.card.crm_tier_id, self.gold)
        self.assertRecordValues(
            self.card.crm_tier_history_ids,
            [
                {
                    "trigger": "manual",
                    "new_tier_id": self.gold.id,
                    "reason": "Key account",
                    "user_id": self.manager.id,
                }
            ],
        )

    def test_salesman_cannot_reach_the_wizard(self):
        with self.assertRaises(AccessError):
            self.env["crm.loyalty.tier.wizard"].with_user(self.salesman).create(
                {"card_id": self.card.id, "tier_id": self.gold.id, "reason": "x"}
            )

    def test_requalify_all_members_is_the_managers_and_runs_in_the_cron(self):
        cron = self.env.ref("crm_loyalty.ir_cron_tier_requalify")
        with self.assertRaises(AccessError):
            self.program.with_user(self.salesman).action_crm_tier_requalify()
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.card._ledger_post("adjust", 10, reason="x")
        with patch.object(type(self.card), "_crm_tier_evaluate") as evaluate:
            action = self.program.with_user(self.manager).action_crm_tier_requalify()
        self.assertFalse(evaluate.called, "the request itself re-qualifies nobody")
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)


class TestCustomerFigures(LoyaltyCase):
    """A salesperson reads the 12-month spend of his own customers (or his team's), not of others'."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        salesman = cls.env.ref("sales_team.group_sale_salesman")
        cls.owner, cls.other, cls.leader = cls.env["res.users"].create(
            [
                {"name": name, "login": f"figures_{name}", "groups_id": [Command.set([salesman.id])]}
                for name in ("owner", "other", "leader")
            ]
        )
        cls.env["crm.team"].create(
            {"name": "Figures Team", "user_id": cls.leader.id, "member_ids": [Command.set(cls.owner.ids)]}
        )
        cls.ann = cls._partner("Ann")
        cls.ann.user_id = cls.owner
        cls.card = cls._card(cls.ann)
        cls._invoice(cls.ann, 600.0, fields.Date.today())

    def _amount(self, user):
        self.env.invalidate_all()
        return self.card.with_user(user).crm_qualifying_amount

    def test_spend_is_shown_to_the_owner_and_his_team_leader_only(self):
        self.assertEqual(self._amount(self.owner), 600.0)
        self.assertEqual(self._amount(self.leader), 600.0)
        self.assertEqual(self._amount(self.env.ref("base.user_admin")), 600.0)
        self.assertEqual(self._amount(self.other), 0.0, "another salesperson's customer spend leaked")
