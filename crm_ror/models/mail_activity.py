from odoo import models

# Documents whose done activities count as a contact with their customer (field to the customer).
CONTACT_MODELS = {"crm.lead": "partner_id", "sale.order": "partner_id"}


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        # sudo: the activity's user may not read its document's customer; only the contact date is written.
        partners = (
            self.env["res.partner"]
            .sudo()
            .browse([activity.res_id for activity in self if activity.res_model == "res.partner"])
            .exists()
        )
        for model, field in CONTACT_MODELS.items():
            res_ids = [activity.res_id for activity in self if activity.res_model == model]
            if res_ids:
                # sudo: as above, the document only names the customer whose contact date is set.
                records = self.env[model].sudo().browse(res_ids).exists()
                partners |= records[field]
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if partners:
            partners._crm_ror_mark_contacted()
        return result
