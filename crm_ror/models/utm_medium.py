from odoo import fields, models


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
