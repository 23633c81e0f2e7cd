from odoo import api, fields, models
from odoo.exceptions import ValidationError


class UtmMedium(models.Model):
    _inherit = "utm.medium"

    ror_contact_cost = fields.Float(
        "Cost per contact",
        company_dependent=True,
        help="Cost to serve of one campaign contact through this medium (a lead, opportunity, quotation "
        "or order of the customer carrying a campaign and this medium), in the company's currency. "
        "Empty: the default cost.",
    )
    ror_default_contact_cost = fields.Float(
        "Default cost per contact",
        help="Cost per contact in the companies that set none of their own (in their currency).",
    )

    # Campaign economics: the channel a medium reaches customers through; its cost per contact is
    # ``ror_contact_cost`` above (one contact = one touch of one targeted customer).
    crm_ror_channel = fields.Selection(
        [
            ("phone", "Phone"),
            ("sms", "SMS"),
            ("mail", "Direct mail"),
            ("email", "Email"),
            ("other", "Other"),
        ],
        string="Channel",
        default="other",
        help="How this medium reaches customers; campaign response rates are compared per channel.",
    )

    @api.constrains("ror_contact_cost")
    def _check_crm_ror_contact_cost(self):
        for medium in self:
            if medium.ror_contact_cost < 0:
                raise ValidationError(
                    self.env._(
                        "Medium %(medium)s: the cost per contact cannot be negative; enter 0 or a positive cost.",
                        medium=medium.name,
                    )
                )
