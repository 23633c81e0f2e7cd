from odoo import models

from ..models.loyalty_history import STOCK_SKIP, ledger_scope


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge_loyalty_cards(self, src_partners, dst_partner):
        """Merge nominative cards of ledger programs through the ledger: each merged card's
        balance moves to the kept card as postings (its open lots with their expiry dates), then
        stock's merge runs for the rest (its point writes on ledger cards are left out)."""
        # sudo: as stock's merge, which reads and writes the cards of both partners
        Card = self.env["loyalty.card"].sudo()
        ledger_cards = Card.search(
            [
                ("partner_id", "in", src_partners.ids),
                ("program_id.ledger_enabled", "=", True),
                "|",
                ("program_id.applies_on", "=", "both"),
                "&",
                ("program_id.program_type", "in", ("ewallet", "loyalty")),
                ("program_id.applies_on", "=", "future"),
            ]
        )
        for program, cards in ledger_cards.grouped("program_id").items():
            # the card stock keeps: the destination partner's, else the first merged one
            kept = Card.search(
                [("partner_id", "=", dst_partner.id), ("program_id", "=", program.id)], limit=1
            )
            kept = kept or cards[0]
            for card in (cards - kept).filtered("points").sorted("id"):
                card._ledger_transfer_to(kept)
        with ledger_scope(STOCK_SKIP):
            return super()._merge_loyalty_cards(src_partners, dst_partner)
