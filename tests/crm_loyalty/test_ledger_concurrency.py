"""Two real database sessions on one card: balance changes are serialised by the card row lock.

The fixture is committed (other sessions must see it) and removed at the end.
"""

import random
import threading
import time

import psycopg2.errors
import psycopg2.extensions

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError

from ..common import CrmTransactionCase

THREADS = 20


class TestLedgerConcurrency(CrmTransactionCase):
    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "loyalty_no_mail": True})
            program = env["loyalty.program"].create(
                {
                    "name": "Ledger Concurrency",
                    "program_type": "loyalty",
                    "applies_on": "both",
                    "trigger": "auto",
                    "ledger_enabled": True,
                    "rule_ids": [Command.create({"reward_point_mode": "order", "reward_point_amount": 1})],
                    "reward_ids": [Command.create({"reward_type": "discount", "required_points": 1})],
                }
            )
            card = env["loyalty.card"].create({"program_id": program.id})
            card._ledger_post("adjust", 100, reason="concurrency fixture")
            partner = env["res.partner"].create({"name": "Ledger Concurrency Customer"})
            card.partner_id = partner
            product = env["product.product"].create(
                {"name": "Ledger Concurrency Service", "type": "service", "list_price": 50.0}
            )
            self.program_id, self.card_id, self.partner_id = program.id, card.id, partner.id
            self.product_ids = [*program.reward_ids.discount_line_product_id.ids, product.id]
            self.order_ids = (
                env["sale.order"]
                .create(
                    [
                        {
                            "partner_id": partner.id,
                            "order_line": [
                                Command.create(
                                    {"product_id": product.id, "product_uom_qty": 1, "tax_id": False}
                                )
                            ],
                        }
                        for _order in range(THREADS)
                    ]
                )
                .ids
            )
        self.addCleanup(self._drop_fixture)

    def _drop_fixture(self):
        with self.registry.cursor() as cr:
            # ledger lines are undeletable through the ORM: the committed fixture goes by SQL
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'sale.order' AND res_id IN %s",
                [tuple(self.order_ids)],
            )
            cr.execute(
                "DELETE FROM mail_followers WHERE res_model = 'sale.order' AND res_id IN %s",
                [tuple(self.order_ids)],
            )
            cr.execute("DELETE FROM crm_loyalty_lot_consumption WHERE card_id = %s", [self.card_id])
            cr.execute(
                "UPDATE loyalty_history SET reversed_line_id = NULL WHERE card_id = %s", [self.card_id]
            )
            cr.execute("DELETE FROM loyalty_history WHERE card_id = %s", [self.card_id])
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'loyalty.card' AND res_id = %s", [self.card_id]
            )
            cr.execute("DELETE FROM loyalty_card WHERE id = %s", [self.card_id])
            env = api.Environment(cr, SUPERUSER_ID, {})
            program = env["loyalty.program"].browse(self.program_id)
            program.active = False
            program.unlink()
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'account.move' AND res_id IN "
                "(SELECT id FROM account_move WHERE partner_id = %s)",
                [self.partner_id],
            )
            cr.execute(
                "DELETE FROM account_move_line WHERE move_id IN (SELECT id FROM account_move WHERE partner_id = %s)",
                [self.partner_id],
            )
            cr.execute("DELETE FROM account_move WHERE partner_id = %s", [self.partner_id])
            cr.execute("DELETE FROM sale_order WHERE id IN %s", [tuple(self.order_ids)])
            env["product.product"].browse(self.product_ids).unlink()
            cr.execute("DELETE FROM mail_followers WHERE partner_id = %s", [self.partner_id])
            env["res.partner"].browse(self.partner_id).unlink()

    def _card(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {"loyalty_no_mail": True})["loyalty.card"].browse(
            self.card_id
        )

    def test_second_session_waits_for_the_lock(self):
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        try:
            self._card(cr1)._ledger_post("redeem", -70)  # holds the card row until commit
            cr2.execute("SET lock_timeout = '300ms'")
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                self._card(cr2)._ledger_post("redeem", -70)
            cr2.rollback()
            cr1.commit()
            # the second session, retried after the first committed, sees 30 points and is refused
            with self.assertRaises(UserError):
                self._card(cr2)._ledger_post("redeem", -70)
            cr2.rollback()
            self._card(cr2)._ledger_post("redeem", -30)
            cr2.commit()
        finally:
            cr1.close()
            cr2.close()
        with self.registry.cursor() as cr:
            card = self._card(cr)
            lines = card.env["loyalty.history"].search([("card_id", "=", card.id)], order="id")
            self.assertEqual(lines.mapped("points"), [100, -70, -30])
            self.assertEqual(lines.mapped("balance_after"), [100, 30, 0])
            self.assertEqual(card.points, 0)

    def test_two_sessions_confirming_orders_keep_both_credits(self):
        """Two sessions confirm an order of the same customer: the second waits for the card lock
        and, retried after the first commits, adds its points to the committed balance."""
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        try:
            env1 = api.Environment(cr1, SUPERUSER_ID, {"loyalty_no_mail": True})
            env2 = api.Environment(cr2, SUPERUSER_ID, {"loyalty_no_mail": True})
            order1 = env1["sale.order"].browse(self.order_ids[0])
            order1._update_programs_and_rewards()
            order1.action_confirm()
            cr2.execute("SET lock_timeout = '300ms'")
            order2 = env2["sale.order"].browse(self.order_ids[1])
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                # (corrected: FOR NO KEY UPDATE lets the quotation link the card, foreign keys do not
                # wait; the confirmation waits for the ledger lock)
                order2._update_programs_and_rewards()
                order2.action_confirm()
            cr2.rollback()
            cr1.commit()
            env2.invalidate_all()
            order2 = env2["sale.order"].browse(self.order_ids[1])
            order2._update_programs_and_rewards()
            order2.action_confirm()
            cr2.commit()
        finally:
            cr1.close()
            cr2.close()
        with self.registry.cursor() as cr:
            card = self._card(cr)
            lines = card.env["loyalty.history"].search([("card_id", "=", card.id)], order="id")
            self.assertEqual(lines.mapped("move_type"), ["adjust", "earn", "earn"])
            self.assertEqual(lines.mapped("balance_after"), [100, 101, 102])
            self.assertEqual(card.points, 102)

    def test_two_threads_redeeming_at_once_never_overdraw(self):
        """Two sessions each redeem 60 of 100 at the same time: one wins, the other is refused
        (after Odoo's retry on the serialisation error), no point is lost or doubled."""
        started, results = threading.Barrier(2), {}

        def redeem(name):
            for _attempt in range(3):  # what Odoo's request retry does on a serialisation failure
                with self.registry.cursor() as cr:
                    try:
                        started.wait(timeout=10) if _attempt == 0 else None
                        self._card(cr)._ledger_post("redeem", -60)
                        cr.execute("SELECT pg_sleep(0.3)")  # keep the lock while the other waits
                        cr.commit()
                        results[name] = "ok"
                        return
                    except psycopg2.errors.SerializationFailure:
                        cr.rollback()
                        results[name] = "retry"
                    except UserError:
                        cr.rollback()
                        results[name] = "refused"
                        return

        threads = [threading.Thread(target=redeem, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(sorted(results.values()), ["ok", "refused"])
        with self.registry.cursor() as cr:
            card = self._card(cr)
            lines = card.env["loyalty.history"].search([("card_id", "=", card.id)])
            self.assertEqual(card.points, 40)
            self.assertEqual(sum(lines.mapped("points")), 40)

    def test_twenty_sessions_confirming_invoicing_and_redeeming(self):
        """20 threads, each with its own cursor, confirm, invoice and redeem on one card at the
        same time (retrying as Odoo does on lock and serialisation failures): no point is lost
        or doubled, and the card equals the sum of its ledger."""
        started, results, lock = threading.Barrier(THREADS), {}, threading.Lock()
        retryable = (psycopg2.extensions.TransactionRollbackError, psycopg2.errors.LockNotAvailable)

        def work(index):
            for attempt in range(40):
                with self.registry.cursor() as cr:
                    try:
                        if attempt == 0:
                            started.wait(timeout=30)
                        env = api.Environment(
                            cr, SUPERUSER_ID, {"loyalty_no_mail": True, "tracking_disable": True}
                        )
                        if index % 3 == 1:
                            env["loyalty.card"].browse(self.card_id)._ledger_post("redeem", -5)
                            kind = "redeem"
                        else:
                            order = env["sale.order"].browse(self.order_ids[index])
                            order._update_programs_and_rewards()
                            order.action_confirm()
                            if index % 3 == 2:
                                order._create_invoices().action_post()
                            kind = "confirm"
                        cr.commit()
                        with lock:
                            results[index] = kind
                        return
                    except retryable:
                        cr.rollback()
                # as Odoo's request retry: wait a random while before trying again
                time.sleep(random.uniform(0.0, min(0.1 * (attempt + 1), 1.0)))

        threads = [threading.Thread(target=work, args=(index,)) for index in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertEqual(len(results), THREADS, "every session got through")
        confirms = sum(1 for kind in results.values() if kind == "confirm")
        redeems = THREADS - confirms
        with self.registry.cursor() as cr:
            card = self._card(cr)
            lines = card.env["loyalty.history"].search([("card_id", "=", card.id)])
            self.assertEqual(card.points, 100 + confirms * 1 - redeems * 5)
            self.assertEqual(sum(lines.mapped("points")), card.points)
            earns = lines.filtered(lambda line: line.move_type == "earn")
            self.assertEqual(len(earns), confirms, "each order earned once")
            self.assertEqual(len(set(earns.sale_order_id.ids)), confirms)
            self.assertEqual(len(lines.filtered(lambda line: line.move_type == "redeem")), redeems)
