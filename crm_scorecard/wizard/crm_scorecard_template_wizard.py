from odoo import api, fields, models


class CrmScorecardTemplateWizard(models.TransientModel):
    """One click: a scorecard for a sales team from a template."""

    _name = "crm.scorecard.template.wizard"
    _description = "Create a scorecard from a template"

    template_id = fields.Many2one("crm.scorecard.template", required=True)
    team_id = fields.Many2one("crm.team", string="Sales team", help="Empty: every team of the company.")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    name = fields.Char(help="Empty: the template's name and the team's.")

    @api.onchange("team_id")
    def _onchange_team_id(self):
        if self.team_id.company_id:
            self.company_id = self.team_id.company_id

    def action_create(self):
        self.ensure_one()
        scorecard = self.template_id._create_scorecard(
            team=self.team_id, user=self.env.user, company=self.company_id, name=self.name
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.scorecard",
            "res_id": scorecard.id,
            "view_mode": "form",
            "target": "current",
        }
