from odoo import fields, models


class MailActivityType(models.Model):
    _inherit = "mail.activity.type"

    ror_cost = fields.Float(
        "Cost per activity",
        company_dependent=True,
        help="Cost to serve of one done activity of this type (on the customer, its leads or its "
        "orders), in the company's currency. A company without a cost of its own uses the default cost.",
    )
    ror_default_cost = fields.Float(
        "Default cost per activity",
        help="Cost per done activity in the companies that set none of their own (in their currency).",
    )
