from odoo import fields, models


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

    def _send_tier_mails(self):
        """Mail each member about its upgrade or downgrade, with the program's template."""
        if self.env.context.get("loyalty_no_mail"):
            return
        by_template = {}
        contactable = self.card_id.partner_id._crm_loyalty_contactable()
        for history in self.filtered(lambda h: h.card_id.partner_id in contactable):
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
