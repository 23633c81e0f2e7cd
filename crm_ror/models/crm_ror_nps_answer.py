import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..engine import campaign as engine

CHANNELS = [
    ("email", "Email link"),
    ("phone", "Phone"),
    ("sms", "SMS"),
    ("visit", "Visit"),
    ("import", "Import"),
    ("other", "Other"),
]
# What the customer answers through a survey link: nobody but the link and a manager sets them.
LINK_ANSWER_FIELDS = {"score", "state", "comment", "channel", "date", "partner_id"}


class CrmRorNpsAnswer(models.Model):
    """A customer's answer to "How likely are you to recommend us?", from 0 to 10.

    Entered by hand, imported, or collected through a one-time link: ``_crm_ror_request`` creates an
    answer in state *requested* with a random token and an expiry date, and mails the link; the public
    route ``/crm_ror/nps/<token>`` writes the one score through ``_crm_ror_answer_by_token`` and clears
    the token, so a link serves once. ``nps_value`` is +100 for a promoter, -100 for a detractor, 0 for
    a passive: its average over answers is the NPS.
    """

    _name = "crm.ror.nps.answer"
    _description = "Satisfaction (NPS) Answer"
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, ondelete="cascade")
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True, string="Customer company"
    )
    user_id = fields.Many2one(
        related="commercial_partner_id.user_id", store=True, index=True, string="Salesperson"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, ondelete="cascade"
    )
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    channel = fields.Selection(CHANNELS, required=True, default="phone")
    state = fields.Selection(
        [("requested", "Requested"), ("answered", "Answered")],
        default="answered",
        required=True,
        readonly=True,
    )
    score = fields.Integer(aggregator="avg", help="0 (not at all likely) to 10 (extremely likely).")
    comment = fields.Text()
    category = fields.Selection(
        [("promoter", "Promoter"), ("passive", "Passive"), ("detractor", "Detractor")],
        compute="_compute_category",
        store=True,
    )
    nps_value = fields.Float(
        "NPS",
        compute="_compute_category",
        store=True,
        aggregator="avg",
        help="Averages to the net promoter score.",
    )
    access_token = fields.Char(copy=False, groups="base.group_system", index="btree_not_null")
    token_expires = fields.Datetime("Link expires", copy=False, readonly=True)

    @api.depends("score", "state")
    def _compute_category(self):
        for answer in self:
            if answer.state != "answered":
                answer.category, answer.nps_value = False, 0.0
            elif answer.score >= engine.PROMOTER_MIN:
                answer.category, answer.nps_value = "promoter", 100.0
            elif answer.score <= engine.DETRACTOR_MAX:
                answer.category, answer.nps_value = "detractor", -100.0
            else:
                answer.category, answer.nps_value = "passive", 0.0

    @api.constrains("score", "state")
    def _check_score(self):
        for answer in self.filtered(lambda a: a.state == "answered"):
            if not 0 <= answer.score <= 10:
                raise ValidationError(
                    self.env._(
                        "Satisfaction answer of %(customer)s: the score is %(score)s; enter a whole number from 0 "
                        "to 10.",
                        customer=answer.partner_id.display_name,
                        score=answer.score,
                    )
                )

    def _crm_ror_is_by_link(self):
        """Answers collected through a link: their score is the customer's, not the salesperson's."""
        return self.filtered(lambda a: a.state == "requested" or a.channel == "email")

    def write(self, vals):
        locked = LINK_ANSWER_FIELDS.intersection(vals)
        if locked and not self._crm_ror_may_write_link_answers():
            if "state" in vals or self._crm_ror_is_by_link():
                answer = (self._crm_ror_is_by_link() or self)[:1]
                raise AccessError(
                    self.env._(
                        "Satisfaction answer of %(customer)s: only the customer (through the survey link) or "
                        "a Return on Relationship administrator may set %(fields)s of an answer requested by "
                        "link. Enter a new answer by hand instead.",
                        customer=answer.partner_id.display_name,
                        fields=", ".join(sorted(locked)),
                    )
                )
        return super().write(vals)

    def _crm_ror_may_write_link_answers(self):
        return self.env.su or self.env.user.has_group("crm_ror.group_crm_ror_manager")

    @api.model
    def _crm_ror_request(self, partners, company=None):
        """Create one requested answer per partner with a one-time link, and mail the link.

        Returns the requests. Partners without email or whose outreach is blocked are skipped."""
        company = company or self.env.company
        partners = partners.filtered(lambda p: p.email and not p.crm_ror_no_outreach)
        expires = fields.Datetime.now() + timedelta(days=company.crm_ror_nps_token_days or 1)
        # Created with the user's rights: the own-customers rule refuses requests for others' customers.
        requests = self.create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "channel": "email",
                    "state": "requested",
                    "token_expires": expires,
                }
                for partner in partners
            ]
        )
        # sudo: the token field is admin-only; the user created these requests just above
        for request in requests.sudo():
            request.access_token = secrets.token_urlsafe(32)
        template = self.env.ref("crm_ror.mail_template_crm_ror_nps_request")
        if requests:
            template.sudo().send_mail_batch(requests.ids)  # the template reads the token field (admin-only)
        return requests

    @api.model
    def action_request_survey(self, partners):
        """Mail the survey link to ``partners`` (the contextual action on contacts)."""
        requests = self._crm_ror_request(partners)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if requests else "warning",
                "message": self.env._(
                    "%(sent)s survey link(s) sent; %(skipped)s contact(s) skipped (no email, or do not contact).",
                    sent=len(requests),
                    skipped=len(partners) - len(requests),
                ),
            },
        }

    def _crm_ror_survey_url(self):
        self.ensure_one()
        base = self.get_base_url()
        return f"{base}/crm_ror/nps/{self.sudo().access_token}"  # the link carries the admin-only token

    @api.model
    def _crm_ror_find_by_token(self, token):
        """The request of ``token``, or a UserError saying why the link cannot serve."""
        # Public route: the token is the only credential; the search runs as superuser on it alone.
        answer = self.sudo().search([("access_token", "=", token)], limit=1) if token else self.sudo()
        if not answer:
            raise UserError(
                self.env._("This survey link was already used or does not exist; ask us for a new one.")
            )
        if answer.token_expires and answer.token_expires < fields.Datetime.now():
            raise UserError(self.env._("This survey link has expired; ask us for a new one."))
        return answer

    @api.model
    def _crm_ror_answer_by_token(self, token, score, comment=None):
        """Write the one answer of the link ``token`` and expire it."""
        answer = self._crm_ror_find_by_token(token)
        try:
            score = int(score)
        except (TypeError, ValueError):
            score = -1
        if not 0 <= score <= 10:
            raise ValidationError(self.env._("Score: choose a whole number from 0 to 10."))
        answer.write(
            {
                "score": score,
                "comment": comment or False,
                "state": "answered",
                "date": fields.Date.context_today(answer),
                "access_token": False,
                "token_expires": False,
            }
        )
        return answer

    @api.model
    def _crm_ror_nps(self, domain):
        """NPS of the answered answers matching ``domain`` (None without any), and their count."""
        groups = self._read_group([*domain, ("state", "=", "answered")], ["score"], ["__count"])
        scores = [score for score, count in groups for _i in range(count)]
        return engine.nps(scores), len(scores)
