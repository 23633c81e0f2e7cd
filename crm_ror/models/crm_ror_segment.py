from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine import rfm


class CrmRorSegment(models.Model):
    _name = "crm.ror.segment"
    _description = "Customer Value Segment"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(
        default=10,
        help="Rank from best (lowest) to worst; the first segment whose ranges hold a customer's scores wins.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty for a segment shared by every company. A company with segments of its own "
        "uses only those.",
    )
    is_lost = fields.Boolean(
        "Lost customers",
        help="Given to customers whose last purchase is older than the company's inactivity limit, "
        "whatever their scores. The R/F ranges of this segment are ignored.",
    )
    r_min = fields.Integer("Recency from", default=1)
    r_max = fields.Integer("Recency to", default=5)
    f_min = fields.Integer("Frequency from", default=1)
    f_max = fields.Integer("Frequency to", default=5)
    color = fields.Integer()
    description = fields.Text(translate=True, help="What the segment means and the suggested action.")
    profile_count = fields.Integer(compute="_compute_profile_count", string="Customers")

    @api.constrains("r_min", "r_max", "f_min", "f_max")
    def _check_ranges(self):
        for segment in self:
            for label, low, high in (
                (self.env._("recency"), segment.r_min, segment.r_max),
                (self.env._("frequency"), segment.f_min, segment.f_max),
            ):
                if not 1 <= low <= high <= rfm.SCORES:
                    raise ValidationError(
                        self.env._(
                            "Segment %(segment)s: the %(score)s range must go from 1 to 5 with 'from' not above 'to' (got %(low)s to %(high)s).",
                            segment=segment.name,
                            score=label,
                            low=low,
                            high=high,
                        )
                    )

    def _compute_profile_count(self):
        counts = dict(
            self.env["crm.ror.customer.profile"]._read_group(
                [("segment_id", "in", self.ids)], ["segment_id"], ["__count"]
            )
        )
        for segment in self:
            segment.profile_count = counts.get(segment, 0)

    @api.model
    def _segments_for_company(self, company):
        """The company's own active segments, or the shared ones when it has none (best first)."""
        own = self.search([("company_id", "=", company.id)])
        return own or self.search([("company_id", "=", False)])

    def action_open_profiles(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_ror.crm_ror_customer_profile_action")
        action["domain"] = [("segment_id", "=", self.id)]
        action["context"] = {}
        return action
