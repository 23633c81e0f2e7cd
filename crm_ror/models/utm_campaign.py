import random
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..engine import campaign as engine

# The nightly refresh keeps following a campaign this many days after its last response window closed,
# so that late postings (an invoice dated in the window, posted later) still count.
REFRESH_GRACE_DAYS = 7


class UtmCampaign(models.Model):
    """Campaign economics on stock campaigns.

    How it works:
        * targets (``crm.ror.campaign.target``) are the customers the campaign reaches, chosen by the
          target selection wizard or added by hand, each with the date it was targeted and its touches;
          a random share can be held out as a control group;
        * ``action_crm_ror_refresh`` writes, in one SQL statement per company, which targets responded
          (a purchase - posted invoice or confirmed order, per the company's "Purchases from" setting -
          or a won opportunity within the response window) and their revenue and margin net of credit
          notes; with attribution "tagged" only documents carrying this campaign (stock ``campaign_id``)
          count;
        * the figures (response rate and its Wilson interval, cost, ROMI, incremental response and ROMI
          against the control group) are computed from the targets by ``engine.campaign``.
    """

    _inherit = "utm.campaign"

    # Stock (sale) gives the campaign its company and currency: the economics are in that company.

    crm_ror_medium_id = fields.Many2one(
        "utm.medium",
        string="Contact medium",
        help="How the targets are contacted; gives the channel and cost per contact.",
    )
    crm_ror_channel = fields.Selection(
        related="crm_ror_medium_id.crm_ror_channel", store=True, string="Channel"
    )
    crm_ror_fixed_cost = fields.Monetary(
        "Fixed cost",
        currency_field="currency_id",
        help="Cost of the campaign whatever the number of contacts.",
    )
    crm_ror_response_days = fields.Integer(
        "Response window (days)",
        default=30,
        help="A purchase or won opportunity this many days after targeting counts.",
    )
    crm_ror_attribution = fields.Selection(
        [("window", "Any purchase in the window"), ("tagged", "Documents tagged with the campaign")],
        string="Attribution",
        default="window",
        required=True,
        help="Window: any purchase of a target within the window (the control group then measures what is "
        "incremental). Tagged: only orders, invoices and opportunities carrying this campaign.",
    )
    crm_ror_control_share = fields.Float(
        "Control group (%)", help="Share of new targets held out at random and never contacted."
    )
    crm_ror_target_ids = fields.One2many("crm.ror.campaign.target", "campaign_id", string="Targets")
    crm_ror_refreshed_at = fields.Datetime("Responses computed on", readonly=True)

    # Figures (contacted group unless said otherwise).
    crm_ror_target_count = fields.Integer("Contacted", compute="_compute_crm_ror_figures")
    crm_ror_responder_count = fields.Integer("Responders", compute="_compute_crm_ror_figures")
    crm_ror_response_rate = fields.Float("Response rate (%)", compute="_compute_crm_ror_figures")
    crm_ror_rate_low = fields.Float("Rate 95 % low (%)", compute="_compute_crm_ror_figures")
    crm_ror_rate_high = fields.Float("Rate 95 % high (%)", compute="_compute_crm_ror_figures")
    crm_ror_revenue = fields.Monetary(
        "Revenue", currency_field="currency_id", compute="_compute_crm_ror_figures"
    )
    crm_ror_margin = fields.Monetary(
        "Margin", currency_field="currency_id", compute="_compute_crm_ror_figures"
    )
    crm_ror_cost = fields.Monetary("Cost", currency_field="currency_id", compute="_compute_crm_ror_figures")
    crm_ror_romi = fields.Float("ROMI", compute="_compute_crm_ror_figures", help="(margin - cost) / cost.")
    crm_ror_has_romi = fields.Boolean(compute="_compute_crm_ror_figures")
    crm_ror_control_count = fields.Integer("Control targets", compute="_compute_crm_ror_figures")
    crm_ror_control_rate = fields.Float("Control response rate (%)", compute="_compute_crm_ror_figures")
    crm_ror_control_mailed_count = fields.Integer(
        "Control targets mailed anyway",
        compute="_compute_crm_ror_figures",
        help="Control customers that a mailing of the campaign reached all the same: their response is "
        "no longer that of an untouched group.",
    )
    crm_ror_incremental_rate = fields.Float(
        "Incremental response (points)", compute="_compute_crm_ror_figures"
    )
    crm_ror_incremental_responders = fields.Float(
        "Incremental responders", compute="_compute_crm_ror_figures"
    )
    crm_ror_incremental_margin = fields.Monetary(
        "Incremental margin", currency_field="currency_id", compute="_compute_crm_ror_figures"
    )
    crm_ror_incremental_romi = fields.Float("Incremental ROMI", compute="_compute_crm_ror_figures")
    crm_ror_has_control = fields.Boolean(compute="_compute_crm_ror_figures")

    @api.constrains("crm_ror_fixed_cost", "crm_ror_response_days", "crm_ror_control_share")
    def _check_crm_ror_economics(self):
        for campaign in self:
            if campaign.crm_ror_fixed_cost < 0:
                raise ValidationError(
                    self.env._(
                        "Campaign %(campaign)s: the fixed cost cannot be negative; enter 0 or a positive cost.",
                        campaign=campaign.title,
                    )
                )
            if campaign.crm_ror_response_days < 1:
                raise ValidationError(
                    self.env._(
                        "Campaign %(campaign)s: the response window must be at least 1 day (30 is usual).",
                        campaign=campaign.title,
                    )
                )
            if not 0 <= campaign.crm_ror_control_share < 100:
                raise ValidationError(
                    self.env._(
                        "Campaign %(campaign)s: the control group is a share from 0 to less than 100 %%.",
                        campaign=campaign.title,
                    )
                )
            if campaign.crm_ror_attribution == "tagged" and campaign.crm_ror_control_share:
                raise ValidationError(
                    self.env._(
                        "Campaign %(campaign)s: a control group is never contacted, so it carries no campaign "
                        "tag; use the attribution 'Any purchase in the window' with a control group.",
                        campaign=campaign.title,
                    )
                )

    @api.depends(
        "crm_ror_target_ids.responded",
        "crm_ror_target_ids.is_control",
        "crm_ror_target_ids.control_sends",
        "crm_ror_target_ids.revenue",
        "crm_ror_target_ids.margin",
        "crm_ror_target_ids.cost",
        "crm_ror_fixed_cost",
    )
    def _compute_crm_ror_figures(self):
        groups = self.env["crm.ror.campaign.target"]._read_group(
            [("campaign_id", "in", self.ids)],
            ["campaign_id", "is_control", "responded"],
            ["__count", "revenue:sum", "margin:sum", "cost:sum"],
        )
        totals = {}
        for campaign, is_control, responded, count, revenue, margin, cost in groups:
            cell = totals.setdefault((campaign.id, is_control), [0, 0, 0.0, 0.0, 0.0])
            cell[0] += count
            cell[1] += count if responded else 0
            cell[2] += revenue
            cell[3] += margin
            cell[4] += cost
        mailed_controls = dict(
            self.env["crm.ror.campaign.target"]._read_group(
                [("campaign_id", "in", self.ids), ("is_control", "=", True), ("control_sends", ">", 0)],
                ["campaign_id"],
                ["__count"],
            )
        )
        for campaign in self:
            n, responders, revenue, margin, contact_cost = totals.get(
                (campaign.id, False), [0, 0, 0.0, 0.0, 0.0]
            )
            control = totals.get((campaign.id, True), [0, 0, 0.0, 0.0, 0.0])
            cost = contact_cost + campaign.crm_ror_fixed_cost
            figures = engine.campaign_figures(
                n, responders, revenue, margin, cost, control[0], control[1], control[3]
            )
            interval = figures["interval"] or (0.0, 0.0)
            campaign.update(
                {
                    "crm_ror_target_count": n,
                    "crm_ror_responder_count": responders,
                    "crm_ror_response_rate": 100.0 * (figures["rate"] or 0.0),
                    "crm_ror_rate_low": 100.0 * interval[0],
                    "crm_ror_rate_high": 100.0 * interval[1],
                    "crm_ror_revenue": revenue,
                    "crm_ror_margin": margin,
                    "crm_ror_cost": cost,
                    "crm_ror_romi": figures["romi"] or 0.0,
                    "crm_ror_has_romi": figures["romi"] is not None,
                    "crm_ror_control_count": control[0],
                    "crm_ror_control_rate": 100.0 * (figures["control_rate"] or 0.0),
                    "crm_ror_control_mailed_count": mailed_controls.get(campaign, 0),
                    "crm_ror_incremental_rate": 100.0 * (figures["incremental_rate"] or 0.0),
                    "crm_ror_incremental_responders": figures["incremental_responders"] or 0.0,
                    "crm_ror_incremental_margin": figures["incremental_margin"] or 0.0,
                    "crm_ror_incremental_romi": figures["incremental_romi"] or 0.0,
                    "crm_ror_has_control": figures["control_rate"] is not None,
                }
            )

    def _crm_ror_check_company(self):
        for campaign in self:
            if not campaign.company_id:
                raise UserError(
                    self.env._(
                        "Campaign %(campaign)s has no company: set its Company to compute its economics.",
                        campaign=campaign.title,
                    )
                )

    def _crm_ror_add_targets(self, partners, segments=None, date_targeted=None, expected_values=None):
        """Target ``partners`` (commercial entities) on this campaign, holding out the control share at
        random. ``segments``/``expected_values``: {partner id: segment id / value}. Returns the targets."""
        self.ensure_one()
        self._crm_ror_check_company()
        already = set(self.crm_ror_target_ids.partner_id.ids)
        partner_ids = [pid for pid in dict.fromkeys(partners.commercial_partner_id.ids) if pid not in already]
        control = set()
        if self.crm_ror_control_share and partner_ids:
            size = round(len(partner_ids) * self.crm_ror_control_share / 100.0)
            control = set(random.SystemRandom().sample(partner_ids, size))
        expected_values = expected_values or {}

        # Without segments given, the targets' create takes the customers' segments of today.
        def segment_vals(pid):
            return {} if segments is None else {"segment_id": segments.get(pid) or False}

        return self.env["crm.ror.campaign.target"].create(
            [
                {
                    **segment_vals(pid),
                    "campaign_id": self.id,
                    "partner_id": pid,
                    "date_targeted": date_targeted or fields.Date.context_today(self),
                    "touches": 0 if pid in control else 1,
                    "is_control": pid in control,
                    "expected_value": expected_values.get(pid, 0.0),
                }
                for pid in partner_ids
            ]
        )

    def action_crm_ror_refresh(self):
        self._crm_ror_check_company()
        self.env["crm.ror.campaign.target"].check_access("write")
        # Sales lines and won opportunities of every customer are read to decide responses; the user
        # only sees the result on the targets their rules show.
        self.sudo()._crm_ror_refresh_responses()
        return True

    @api.model
    def _cron_refresh_responses(self):
        """Refresh every campaign whose response window was open in the last week (or still is), and
        every campaign with a mailing sent in the last week (mass_mailing)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT c.id FROM utm_campaign c JOIN crm_ror_campaign_target t ON t.campaign_id = c.id
                 WHERE c.company_id IS NOT NULL
              GROUP BY c.id
                HAVING max(t.date_targeted + c.crm_ror_response_days) >= %s
                """,
                fields.Date.context_today(self) - timedelta(days=REFRESH_GRACE_DAYS),
            )
        )
        campaign_ids = {row[0] for row in self.env.cr.fetchall()}
        if "mailing.trace" in self.env:
            # campaigns mailed lately: those sent without targets yet, or mailed after their window
            campaign_ids.update(
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        """
                        SELECT DISTINCT tr.campaign_id FROM mailing_trace tr
                          JOIN utm_campaign c ON c.id = tr.campaign_id
                         WHERE c.company_id IS NOT NULL AND tr.trace_type = 'mail' AND tr.sent_datetime >= %s
                        """,
                        fields.Datetime.now() - timedelta(days=REFRESH_GRACE_DAYS),
                    )
                )
            )
        campaigns = self.browse(sorted(campaign_ids))
        if campaigns:
            campaigns._crm_ror_refresh_responses()

    def _crm_ror_refresh_responses(self):
        """Write the responses of these campaigns' targets, one UPDATE per company."""
        self._crm_ror_sync_mailing_touches()
        for company in self.company_id:
            campaigns = self.filtered(lambda c, company=company: c.company_id == company)
            self._crm_ror_refresh_company(company, campaigns)
        self.write({"crm_ror_refreshed_at": fields.Datetime.now()})
        self.crm_ror_target_ids.invalidate_recordset(
            ["responded", "response_rate", "response_date", "revenue", "margin"]
        )

    def _crm_ror_sync_mailing_touches(self):
        """Count the mailings sent by these campaigns (``mass_mailing``, when installed) as targets and
        touches: each sent ``mailing.trace`` of a mailing of the campaign is one touch of its customer.

        The customer is the commercial entity of the trace's partner (``res_id`` of a mailing on
        ``res.partner``), else of the partner with the trace's email (a mailing on mailing contacts or
        any other model). A customer reached without a target gets one, targeted on the day of its
        first send; a target's touches become the sends when there are more (a touch planned by the
        target selection and its send are one contact). Control targets stay uncontacted (no touch, no
        cost), but their sends are recorded (``control_sends``): the campaign reports them.
        """
        if "mailing.trace" not in self.env or not self:
            return
        Target = self.env["crm.ror.campaign.target"]
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                WITH sent AS (
                    SELECT tr.campaign_id,
                           COALESCE(rp.commercial_partner_id, by_email.commercial_partner_id) AS partner_id,
                           tr.sent_datetime
                      FROM mailing_trace tr
                      JOIN utm_campaign c ON c.id = tr.campaign_id
                 LEFT JOIN res_partner rp ON tr.model = 'res.partner' AND rp.id = tr.res_id
                 LEFT JOIN LATERAL (
                           -- one customer per send: a partner of the campaign's company (or shared) with
                           -- the address, a commercial entity before a contact, else the oldest
                           SELECT p.commercial_partner_id FROM res_partner p
                            WHERE tr.model <> 'res.partner' AND p.email_normalized = tr.email AND p.active
                              AND (p.company_id IS NULL OR p.company_id = c.company_id)
                            ORDER BY p.id = p.commercial_partner_id DESC, p.id LIMIT 1) by_email ON TRUE
                     WHERE tr.campaign_id = ANY(%(campaigns)s) AND tr.sent_datetime IS NOT NULL
                       AND tr.trace_type = 'mail'
                ),
                per_customer AS (
                    SELECT campaign_id, partner_id, COUNT(*) AS sends, MIN(sent_datetime)::date AS first_sent
                      FROM sent WHERE partner_id IS NOT NULL GROUP BY campaign_id, partner_id
                ),
                raised AS (
                    UPDATE crm_ror_campaign_target t
                       SET touches = pc.sends, write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                      FROM per_customer pc
                     WHERE t.campaign_id = pc.campaign_id AND t.partner_id = pc.partner_id
                       AND t.is_control IS NOT TRUE AND t.touches < pc.sends
                 RETURNING t.id
                ),
                control_mailed AS (
                    UPDATE crm_ror_campaign_target t
                       SET control_sends = pc.sends, write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                      FROM per_customer pc
                     WHERE t.campaign_id = pc.campaign_id AND t.partner_id = pc.partner_id
                       AND t.is_control AND t.control_sends IS DISTINCT FROM pc.sends
                 RETURNING t.id
                ),
                added AS (
                    INSERT INTO crm_ror_campaign_target
                           (campaign_id, partner_id, segment_id, date_targeted, touches, is_control,
                            expected_value, create_uid, write_uid, create_date, write_date)
                    SELECT pc.campaign_id, pc.partner_id, pr.segment_id, pc.first_sent, pc.sends, FALSE, 0,
                           %(uid)s, %(uid)s, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                      FROM per_customer pc
                      JOIN utm_campaign c ON c.id = pc.campaign_id
                 LEFT JOIN crm_ror_customer_profile pr
                           ON pr.partner_id = pc.partner_id AND pr.company_id = c.company_id
                     WHERE NOT EXISTS (SELECT 1 FROM crm_ror_campaign_target t
                                        WHERE t.campaign_id = pc.campaign_id AND t.partner_id = pc.partner_id)
                        -- campaign_partner_uniq: a target added meanwhile by another transaction wins
                        ON CONFLICT DO NOTHING
                 RETURNING id
                )
                SELECT id, 'raised' FROM raised
                 UNION ALL SELECT id, 'control' FROM control_mailed
                 UNION ALL SELECT id, 'added' FROM added
                """,
                campaigns=self.ids,
                uid=self.env.uid,
            )
        )
        raised = Target.browse([tid for tid, kind in rows if kind == "raised"])
        control = Target.browse([tid for tid, kind in rows if kind == "control"])
        added = Target.browse([tid for tid, kind in rows if kind == "added"])
        # Rows written in SQL: their stored related and computed fields are computed by the ORM.
        raised.invalidate_recordset(["touches"])
        raised.modified(["touches"])
        control.invalidate_recordset(["control_sends"])
        control.modified(["control_sends"])
        for fname in ("company_id", "user_id", "channel", "cost"):
            self.env.add_to_compute(Target._fields[fname], added)
        Target.flush_model()
        self.crm_ror_target_ids.invalidate_recordset()
        self.invalidate_recordset(["crm_ror_target_ids"])

    @api.model
    def _crm_ror_refresh_company(self, company, campaigns):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT max(t.date_targeted + c.crm_ror_response_days) FROM crm_ror_campaign_target t "
                "JOIN utm_campaign c ON c.id = t.campaign_id WHERE c.id = ANY(%s)",
                campaigns.ids,
            )
        )
        date_to = self.env.cr.fetchone()[0]
        if not date_to:
            return
        lines = self.env["crm.ror.customer.profile"]._ror_sales_lines_query(company, date_to)
        doc_table = SQL("sale_order") if company.ror_source == "order" else SQL("account_move")
        query = SQL(
            """
            WITH tg AS (
                SELECT t.id, t.partner_id, t.date_targeted AS date_from,
                       t.date_targeted + c.crm_ror_response_days AS date_to,
                       c.id AS campaign_id, c.crm_ror_attribution = 'tagged' AS tagged
                  FROM crm_ror_campaign_target t
                  JOIN utm_campaign c ON c.id = t.campaign_id
                 WHERE c.id = ANY(%(campaigns)s)
            ),
            docs AS (
                SELECT tg.id, sum(l.amount) AS revenue, sum(l.amount - l.cost) AS margin,
                       min(l.doc_date) FILTER (WHERE l.is_purchase) AS first_purchase
                  FROM tg
                  JOIN (%(lines)s) l ON l.partner_id = tg.partner_id
                   AND l.doc_date BETWEEN tg.date_from AND tg.date_to
                  JOIN %(doc_table)s d ON d.id = l.doc_id
                 WHERE NOT tg.tagged OR d.campaign_id = tg.campaign_id
              GROUP BY tg.id
            ),
            won AS (
                SELECT tg.id, min(ld.date_closed::date) AS won_date
                  FROM tg
                  JOIN res_partner p ON p.commercial_partner_id = tg.partner_id
                  JOIN crm_lead ld ON ld.partner_id = p.id
                  JOIN crm_stage s ON s.id = ld.stage_id AND s.is_won
                 WHERE ld.active AND ld.company_id = %(company)s
                   AND ld.date_closed::date BETWEEN tg.date_from AND tg.date_to
                   AND (NOT tg.tagged OR ld.campaign_id = tg.campaign_id)
              GROUP BY tg.id
            )
            UPDATE crm_ror_campaign_target t
               SET responded = (docs.first_purchase IS NOT NULL OR won.won_date IS NOT NULL),
                   response_rate = CASE WHEN docs.first_purchase IS NOT NULL OR won.won_date IS NOT NULL
                                        THEN 100.0 ELSE 0.0 END,
                   response_date = LEAST(docs.first_purchase, won.won_date),
                   revenue = COALESCE(docs.revenue, 0.0),
                   margin = COALESCE(docs.margin, 0.0)
              FROM tg
         LEFT JOIN docs ON docs.id = tg.id
         LEFT JOIN won ON won.id = tg.id
             WHERE t.id = tg.id
            """,
            campaigns=campaigns.ids,
            lines=lines,
            doc_table=doc_table,
            company=company.id,
        )
        self.env.cr.execute(query)

    @api.model
    def _crm_ror_response_history(
        self, company, channel, segment_ids=None, touches=None, exclude_campaigns=None
    ):
        """Past contacted targets of the company's campaigns on ``channel``, per segment.

        Returns {segment id or False: (contacts, responders, campaigns, revenue, margin)}; ``touches``
        restricts to targets contacted that many times."""
        domain = [
            ("company_id", "=", company.id),
            ("channel", "=", channel),
            ("is_control", "=", False),
            ("campaign_id.crm_ror_refreshed_at", "!=", False),
        ]
        if segment_ids is not None:
            domain.append(("segment_id", "in", segment_ids))
        if touches:
            domain.append(("touches", "=", touches))
        if exclude_campaigns:
            domain.append(("campaign_id", "not in", exclude_campaigns.ids))
        groups = self.env["crm.ror.campaign.target"]._read_group(
            domain,
            ["segment_id", "responded"],
            ["__count", "campaign_id:count_distinct", "revenue:sum", "margin:sum"],
        )
        history = {}
        campaigns = self.env["crm.ror.campaign.target"]._read_group(
            domain, ["segment_id"], ["campaign_id:count_distinct"]
        )
        campaign_count = {segment.id: count for segment, count in campaigns}
        for segment, responded, count, _campaigns, revenue, margin in groups:
            cell = history.setdefault(segment.id, [0, 0, campaign_count.get(segment.id, 0), 0.0, 0.0])
            cell[0] += count
            if responded:
                cell[1] += count
                cell[3] += revenue
                cell[4] += margin
        return {key: tuple(value) for key, value in history.items()}

    def action_crm_ror_open_targets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_ror.crm_ror_campaign_target_action")
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"default_campaign_id": self.id}
        return action
