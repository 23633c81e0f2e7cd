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
    team_policy = fields.Selection(
        [
            ("keep", "Leads keep their sales team"),
            ("follow", "Leads move to their new salesperson's team"),
        ],
        string="Sales Team",
        default="keep",
        required=True,
        help="Odoo moves a lead to its salesperson's team when he is not a member of the lead's team.",
    )
    team_warning = fields.Char(compute="_compute_team_warning")

    @api.depends("lead_ids", "from_user_ids", "team_id", "to_user_ids", "mode", "team_policy")
    def _compute_team_warning(self):
        for wizard in self:
            wizard.team_warning = False
            if wizard.mode != "round_robin" or not wizard.to_user_ids:
                continue
            outside = [
                lead
                for lead, user in wizard._deal(wizard._leads(raise_if_empty=False))
                if lead.team_id and user not in lead.team_id.member_ids | lead.team_id.user_id
            ]
            if not outside:
                continue
            names = ", ".join(lead.display_name for lead in outside[:5])
            if wizard.team_policy == "keep":
                wizard.team_warning = self.env._(
                    "%(count)s leads go to salespeople outside their sales team and keep their team: %(leads)s",
                    count=len(outside),
                    leads=names,
                )
            else:
                wizard.team_warning = self.env._(
                    "%(count)s leads go to salespeople outside their sales team and move to their team: %(leads)s",
                    count=len(outside),
                    leads=names,
                )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "crm.lead" and self.env.context.get("active_ids"):
            values["lead_ids"] = [fields.Command.set(self.env.context["active_ids"])]
        elif "from_user_ids" in fields_list:
            # suggest the departed salespeople who still own open leads
            leads = self.env["crm.lead"].with_context(active_test=False)
            groups = leads._read_group(
                [*leads._open_leads_domain(), ("ror_owner_departed", "=", True)], ["user_id"]
            )
            values["from_user_ids"] = [fields.Command.set([user.id for (user,) in groups])]
        return values

    def _leads(self, raise_if_empty=True):
        self.ensure_one()
        if self.lead_ids:
            leads = self.lead_ids.filtered(lambda lead: lead._temperature_is_open())
            # biggest first, as for the salespeople's leads
            return leads.sorted(lambda lead: (-lead.expected_revenue, lead.id))
        if not self.from_user_ids:
            if not raise_if_empty:
                return self.env["crm.lead"]
            raise UserError(self.env._("Pick the leads, or the salespeople whose leads are to be spread."))
        domain = [*self.env["crm.lead"]._open_leads_domain(), ("user_id", "in", self.from_user_ids.ids)]
        if self.team_id:
            domain.append(("team_id", "=", self.team_id.id))
        return self.env["crm.lead"].search(domain, order="expected_revenue desc, id")

    def _deal(self, leads):
        """``[(lead, new owner)]``: the leads dealt out in turn (biggest first) so everybody gets a fair share."""
        targets = self.to_user_ids.sorted("id")
        if not targets:
            return []
        return [(lead, targets[index % len(targets)]) for index, lead in enumerate(leads)]

    def action_reassign(self):
        self.ensure_one()
        leads = self._leads()
        if not leads:
            raise UserError(self.env._("There is no open lead to reassign."))
        reason = self.env._("reassigned by %(user)s", user=self.env.user.name)
        keep_team = self.team_policy == "keep"
        if self.mode == "team_leader":
            departed = set(self.env["crm.lead"]._ror_departed_user_ids())
            targets = {lead: lead._ror_handover_user(departed) for lead in leads}
            leaderless = leads.filtered(lambda lead: not targets[lead])
            if leaderless:
                raise UserError(
                    self.env._(
                        "These leads have no active team leader and their company no fallback salesperson "
                        "(Settings): %(leads)s.",
                        leads=", ".join(leaderless[:10].mapped("display_name")),
                    )
                )
            for user, group in leads.grouped(lambda lead: targets[lead]).items():
                group._reassign_to(user, reason, keep_team=keep_team)
        else:
            if not self.to_user_ids:
                raise UserError(self.env._("Pick the salespeople who take the leads over."))
            by_user = defaultdict(list)
            for lead, user in self._deal(leads):
                by_user[user].append(lead.id)
            for user, lead_ids in by_user.items():
                self.env["crm.lead"].browse(lead_ids)._reassign_to(user, reason, keep_team=keep_team)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reassigned Leads"),
            "res_model": "crm.lead",
            "view_mode": "list,form",
            "domain": [("id", "in", leads.ids)],
        }
