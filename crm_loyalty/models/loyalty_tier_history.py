from odoo import api, fields, models, tools

from .loyalty_history import CRON_BATCH

# tier mails rendered per batch of the mail step (one commit each in a scheduled run)
MAIL_BATCH = CRON_BATCH


class LoyaltyTierHistory(models.Model):
    _name = "loyalty.tier.history"
    _description = "Loyalty Tier Change"
    _order = "date desc, id desc"

    card_id = fields.Many2one("loyalty.card", required=True, ondelete="cascade", index=True)
    partner_id = fields.Many2one(related="card_id.partner_id", store=True)
    program_id = fields.Many2one(related="card_id.program_id", store=True)
    company_id = fields.Many2one(related="card_id.company_id", store=True)
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    old_tier_id = fields.Many2one("loyalty.tier", string="From Tier", ondelete="set null")
    new_tier_id = fields.Many2one("loyalty.tier", string="To Tier", ondelete="set null")
    change = fields.Selection(
        [("upgrade", "Upgrade"), ("downgrade", "Downgrade")],
        required=True,
    )
    qualifying_amount = fields.Float(help="Qualifying spend or points over the window at the change.")
    trigger = fields.Selection(
        [
            ("realtime", "Real-time qualification"),
            ("anniversary", "Anniversary review"),
            ("manual", "Manual"),
        ],
        required=True,
        default="realtime",
    )
    reason = fields.Text(readonly=True, help="Why the tier was set by hand (manual changes).")
    user_id = fields.Many2one("res.users", string="Changed By", readonly=True)
    mail_pending = fields.Boolean(
        readonly=True, copy=False, help="The member's mail about this change is not sent yet."
    )

    def init(self):
        # the mail step reads the few pending changes among every member's history
        tools.create_index(
            self.env.cr,
            "loyalty_tier_history_mail_pending_idx",
            self._table,
            ["id"],
            where="mail_pending",
        )

    @api.model
    def _supersede_pending_mails(self, card_ids):
        """A new move of these cards supersedes the mails of their earlier moves not sent yet:
        the mail shows the card's tier of the day it goes out, so only the latest one is right."""
        # sudo: the mail mark is the server's (tier history is read-only for every group)
        self.sudo().search([("card_id", "in", card_ids), ("mail_pending", "=", True)]).mail_pending = False

    @api.model
    def _cron_send_tier_mails(self):
        """Mail step of the tier run: send the pending tier mails in batches of ``MAIL_BATCH``,
        oldest first, each batch its own commit (with its mails) in a scheduled run, so that a
        run stopped midway resumes with the rest and mails no change twice."""
        done = 0
        while pending := self.search([("mail_pending", "=", True)], order="id", limit=MAIL_BATCH):
            pending._send_tier_mails()
            done += len(pending)
            remaining = self.search_count([("mail_pending", "=", True)])
            self.env["loyalty.history"]._cron_commit_batch(done, remaining, commit=True)
            self.env.invalidate_all()

    def _send_tier_mails(self):
        """Mail each member about the pending upgrade or downgrade of these changes, with the
        program's template, and mark them sent. Consent is read at sending (opt-out, blacklist,
        crm_ror's do-not-contact): a member who refuses mail gets none, and the change is done."""
        pending = self.filtered("mail_pending")
        if not pending:
            return
        by_template = {}
        contactable = pending.card_id.partner_id._crm_loyalty_contactable()
        for history in pending.filtered(lambda h: h.card_id.partner_id in contactable):
            program = history.program_id
            template = (
                program.crm_tier_upgrade_template_id
                if history.change == "upgrade"
                else program.crm_tier_downgrade_template_id
            )
            if template:
                by_template.setdefault(template, []).append(history.card_id.id)
        for template, card_ids in by_template.items():
            template.send_mail_batch(card_ids, email_layout_xmlid="mail.mail_notification_light")
        # sudo: the mail mark is the mail step's own (tier history is read-only for every group)
        pending.sudo().mail_pending = False
