from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmRorLeadReassignWizard(models.TransientModel):
    _name = "crm.ror.lead.reassign.wizard"
    _description = "Reassign Leads"

    lead_ids = fields.Many2many(
        "crm.lead", string="Leads", help="Leads to spread; when empty, the open leads of the users below."
    )
    from_user_ids = fields.Many2many(
        "res.users",
        "crm_ror_reassign_wizard_from_user_rel",
        string="From Salespeople",
        context={"active_test": False},
        help="Salespeople whose open leads are spread (archived users included).",
    )
    team_id = fields.Many2one("crm.team", "Only Team")
    to_user_ids = fields.Many2many(
        "res.users",
        "crm_ror_reassign_wizard_to_user_rel",
        string="To Salespeople",
        domain="[('share', '=', False)]",
    )
    mode = fields.Selection(
        [
            ("round_robin", "Round-robin over the salespeople below"),
            ("team_leader", "To each lead's team leader"),
        ],
        default="round_robin",
        required=True,
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "crm.lead" and self.env.context.get("active_ids"):
            values["lead_ids"] = [fields.Command.set(self.env.context["active_ids"])]
        elif "from_user_ids" in fields_list:
            # suggest the archived users who still own open leads
            leads = self.env["crm.lead"].with_context(active_test=False)
            groups = leads._read_group(
                [*leads._open_leads_domain(), ("user_id.active", "=", False)], ["user_id"]
            )
            values["from_user_ids"] = [fields.Command.set([user.id for (user,) in groups])]
        return values

    def _leads(self):
        self.ensure_one()
        if self.lead_ids:
            return self.lead_ids.filtered(lambda lead: lead._temperature_is_open())
        if not self.from_user_ids:
            raise UserError(self.env._("Pick the leads, or the salespeople whose leads are to be spread."))
        domain = [*self.env["crm.lead"]._open_leads_domain(), ("user_id", "in", self.from_user_ids.ids)]
        if self.team_id:
            domain.append(("team_id", "=", self.team_id.id))
        return self.env["crm.lead"].search(domain, order="expected_revenue desc, id")

    def action_reassign(self):
        self.ensure_one()
        leads = self._leads()
        if not leads:
            raise UserError(self.env._("There is no open lead to reassign."))
        reason = self.env._("reassigned by %(user)s", user=self.env.user.name)
        if self.mode == "team_leader":
            leaderless = leads.filtered(lambda lead: not lead.team_id.user_id.active)
            if leaderless:
                raise UserError(
                    self.env._(
                        "These leads have no active team leader: %(leads)s.",
                        leads=", ".join(leaderless[:10].mapped("display_name")),
                    )
                )
            for leader, group in leads.grouped(lambda lead: lead.team_id.user_id).items():
                group._reassign_to(leader, reason)
        else:
            if not self.to_user_ids:
                raise UserError(self.env._("Pick the salespeople who take the leads over."))
            # deal out the leads in turn (biggest first) so everybody gets a fair share
            targets = self.to_user_ids.sorted("id")
            by_user = defaultdict(list)
            for index, lead in enumerate(leads):
                by_user[targets[index % len(targets)]].append(lead.id)
            for user, lead_ids in by_user.items():
                self.env["crm.lead"].browse(lead_ids)._reassign_to(user, reason)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reassigned Leads"),
            "res_model": "crm.lead",
            "view_mode": "list,form",
            "domain": [("id", "in", leads.ids)],
        }
