from odoo import fields, models


class CrmRorNurtureLog(models.Model):
    """One row per rule, lead and idle episode: the activity scheduled, or why none could be.

    An idle episode is identified by the lead's last engagement date when the rule fired: once the
    lead is engaged again and goes quiet again, it is a new episode and the rule fires again."""

    _name = "crm.ror.nurture.log"
    _description = "Lead Nurture Log"
    _order = "id desc"

    rule_id = fields.Many2one("crm.ror.nurture.rule", required=True, ondelete="cascade", index=True)
    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade", index=True)
    activity_id = fields.Many2one("mail.activity", ondelete="set null")
    user_id = fields.Many2one("res.users", "Assigned To", ondelete="set null")
    date_engagement = fields.Datetime("Idle Since", required=True)
    skip_reason = fields.Char(
        "Not Scheduled Because", help="Set when nobody could take the activity; the next run tries again."
    )
    # set from the lead at creation, not a stored related: that would make stock crm search the logs of
    # every lead whose company it recomputes (lead assignment does, lead by lead)
    company_id = fields.Many2one("res.company", readonly=True, index=True)

    _sql_constraints = [
        (
            "rule_lead_unique",
            "UNIQUE(rule_id, lead_id, date_engagement)",
            "A nurture rule acts on a lead once per idle episode.",
        ),
    ]
