from odoo import api, fields, models
from odoo.exceptions import UserError

from ..engine import campaign as engine


class CrmRorCampaignProjection(models.TransientModel):
    """What a planned campaign can expect, from the company's past campaigns on the same channel and
    with the same number of touches: responders (with the 95 % interval), revenue, margin, cost, ROMI,
    and the number of past campaigns and contacts behind each segment's figures."""

    _name = "crm.ror.campaign.projection"
    _description = "Campaign Projection"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    medium_id = fields.Many2one("utm.medium", "Contact medium", required=True)
    channel = fields.Selection(related="medium_id.crm_ror_channel")
    touches = fields.Integer(default=1, required=True)
    segment_ids = fields.Many2many("crm.ror.segment", string="Segments")
    fixed_cost = fields.Monetary()
    line_ids = fields.One2many("crm.ror.campaign.projection.line", "wizard_id", readonly=True)
    targets = fields.Integer(readonly=True)
    responders = fields.Float("Expected responders", readonly=True, digits=(16, 1))
    responders_low = fields.Float("Responders 95 % low", readonly=True, digits=(16, 1))
    responders_high = fields.Float("Responders 95 % high", readonly=True, digits=(16, 1))
    revenue = fields.Monetary("Expected revenue", readonly=True)
    margin = fields.Monetary("Expected margin", readonly=True)
    cost = fields.Monetary(readonly=True)
    romi = fields.Float("Expected ROMI", readonly=True)
    has_romi = fields.Boolean(readonly=True)
    note = fields.Char(readonly=True)

    def action_project(self):
        self.ensure_one()
        if not self.segment_ids:
            raise UserError(self.env._("Segments: choose at least one segment to project."))
        if self.touches < 1:
            raise UserError(self.env._("Touches: a planned contact has at least 1 touch."))
        if self.fixed_cost < 0:
            raise UserError(self.env._("Fixed cost: it cannot be negative; enter 0 or a positive cost."))
        counts = dict(
            self.env["crm.ror.customer.profile"]._read_group(
                [("company_id", "=", self.company_id.id), ("segment_id", "in", self.segment_ids.ids)],
                ["segment_id"],
                ["__count"],
            )
        )
        empty = self.segment_ids - self.env["crm.ror.segment"].union(*counts)
        if empty:
            raise UserError(
                self.env._(
                    "Segment %(segment)s has no customer in %(company)s: remove it, or compute the value "
                    "profiles first.",
                    segment=empty[0].name,
                    company=self.company_id.name,
                )
            )
        history = self.env["utm.campaign"]._crm_ror_response_history(
            self.company_id, self.channel, segment_ids=self.segment_ids.ids, touches=self.touches
        )
        contact_cost = self.medium_id.with_company(self.company_id).ror_contact_cost
        per_responder = {
            seg: (cell[3] / cell[1], cell[4] / cell[1]) for seg, cell in history.items() if cell[1]
        }
        lines, total = engine.projection(
            {seg: cell[:3] for seg, cell in history.items()},
            {segment.id: count for segment, count in counts.items()},
            planned_targets=sum(counts.values()),
            order_margin={seg: value[1] for seg, value in per_responder.items()},
            order_revenue={seg: value[0] for seg, value in per_responder.items()},
            contact_cost=contact_cost,
            touches=self.touches,
        )
        cost = total["cost"] + self.fixed_cost
        self.line_ids.unlink()
        self.write(
            {
                "line_ids": [
                    fields.Command.create(
                        {
                            "segment_id": line["segment"],
                            "targets": line["targets"],
                            "campaigns": line["campaigns"],
                            "contacts": line["contacts"],
                            "known": line["rate"] is not None,
                            "rate": 100.0 * (line["rate"] or 0.0),
                            "responders": line["responders"] or 0.0,
                            "responders_low": line["responders_low"] or 0.0,
                            "responders_high": line["responders_high"] or 0.0,
                            "revenue": line["revenue"] or 0.0,
                            "margin": line["margin"] or 0.0,
                            "cost": line["cost"],
                            "romi": line["romi"] or 0.0,
                        }
                    )
                    for line in lines
                ],
                "targets": total["targets"],
                "responders": total["responders"] or 0.0,
                "responders_low": total["responders_low"] or 0.0,
                "responders_high": total["responders_high"] or 0.0,
                "revenue": total["revenue"] or 0.0,
                "margin": total["margin"] or 0.0,
                "cost": cost,
                "romi": engine.romi(total["margin"] or 0.0, cost) or 0.0,
                "has_romi": total["margin"] is not None and engine.romi(total["margin"], cost) is not None,
                "note": self._note(total),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Campaign projection"),
        }

    @api.model
    def _note(self, total):
        if not total["unknown_segments"]:
            return False
        names = self.env["crm.ror.segment"].browse(total["unknown_segments"]).mapped("name")
        return self.env._(
            "No past campaign on this channel with these touches for: %(segments)s. Their customers count "
            "in the cost, not in the responders.",
            segments=", ".join(names),
        )
