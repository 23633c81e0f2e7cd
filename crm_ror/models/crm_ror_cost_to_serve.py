from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL, sql

# Default costs to serve, in each company's currency: per campaign contact of a medium, per done
# activity of a type. Rough orders of magnitude so that the ROR is defined out of the box; each
# company sets its own cost on the medium or activity type.
DEFAULT_COSTS = {
    "utm.utm_medium_email": 0.1,
    "utm.utm_medium_phone": 5.0,
    "utm.utm_medium_website": 0.5,
    "utm.utm_medium_banner": 1.0,
    "utm.utm_medium_google_adwords": 2.0,
    "utm.utm_medium_facebook": 1.0,
    "utm.utm_medium_linkedin": 1.5,
    "utm.utm_medium_twitter": 1.0,
    "utm.utm_medium_television": 2.0,
    "mail.mail_activity_data_email": 1.0,
    "mail.mail_activity_data_call": 5.0,
    "mail.mail_activity_data_meeting": 25.0,
    "mail.mail_activity_data_todo": 2.0,
    "mail.mail_activity_data_upload_document": 1.0,
}


def int4_array(ids):
    """The ids as one ``int4[]`` literal. PostgreSQL reads it at once; the ``ARRAY[...]`` psycopg2
    writes for a list is parsed and planned element by element (0.15 s per query at 100k ids)."""
    return "{" + ",".join(map(str, ids)) + "}"


# Statuses of a mass-mailing trace (mass_mailing) that reached the customer: a campaign contact.
MAILING_DELIVERED = ("pending", "sent", "open", "reply")


class CrmRorCostToServe(models.AbstractModel):
    """What serving each customer of a company cost over a period, for its value profile and ROR.

    How it works: three families of costs, each summed set-wise (one query per family) for the
    commercial partners asked:

    * **campaign contacts** x the cost per contact of their medium: every lead or opportunity and
      every quotation or order that carries a campaign and a medium; an order coming from a lead
      of the same campaign is that lead's contact, not a second one; with mass_mailing, every
      mailing delivered to the customer, its leads or its orders (its traces);
    * **done activities** x the cost of their type, on the customer, its leads and its orders;
    * **other costs** of other addons: any model that defines
      ``_crm_ror_cost_to_serve(company, partner_ids, date_from, date_to)`` and returns
      ``{commercial partner id: amount in company currency}`` (crm_loyalty's rewards do). A method
      inherited unchanged by several models is called once.

    A medium or activity type without a cost of its own in the company costs its default cost
    (shipped for Odoo's standard mediums and activity types), so that the ROR is defined on real
    data out of the box. The discounts granted come with the sales lines of the profile.
    """

    _name = "crm.ror.cost.to.serve"
    _description = "Customer Cost to Serve"

    @api.model
    def _set_default_costs(self):
        """Write DEFAULT_COSTS on the standard mediums and activity types (data file, each install/upgrade)."""
        for xmlid, cost in DEFAULT_COSTS.items():
            record = self.env.ref(xmlid, raise_if_not_found=False)
            if record:
                field = "ror_default_contact_cost" if record._name == "utm.medium" else "ror_default_cost"
                record[field] = cost

    @api.model
    def _costs(self, company, partner_ids, date_from, date_to):
        """{partner: {"campaign", "activity", "other"}} over [date_from, date_to] (None: no lower bound)."""
        families = self._costs_by_period(company, partner_ids, [(date_from, date_to)])[0]
        return {
            partner_id: {family: amounts.get(partner_id, 0.0) for family, amounts in families.items()}
            for partner_id in partner_ids
        }

    @api.model
    def _costs_by_period(self, company, partner_ids, periods):
        """Costs of several periods [(date_from, date_to)]: per period, {"campaign", "activity",
        "other"} each {partner: amount}, holding only the partners with a cost. Each family is summed
        for every period in one query, not one query per period."""
        campaign = self._contact_costs(company, partner_ids, periods)
        activity = self._activity_costs(company, partner_ids, periods)
        return [
            {
                "campaign": campaign[index],
                "activity": activity[index],
                "other": self._other_costs(company, partner_ids, date_from, date_to),
            }
            for index, (date_from, date_to) in enumerate(periods)
        ]

    @api.model
    def _period_sums(self, cost, day, periods):
        """One ``sum(cost) FILTER (...)`` column per period [(date_from, date_to)] of the day ``day``."""
        return SQL(", ").join(
            SQL(
                "sum(%(cost)s) FILTER (WHERE %(day)s <= %(to)s AND (%(from)s::date IS NULL OR %(day)s >= %(from)s))",
                cost=cost,
                day=day,
                to=date_to,
                **{"from": date_from},
            )
            for date_from, date_to in periods
        )

    @api.model
    def _period_rows(self, rows, periods):
        """[{partner: amount}] per period from rows (partner, amount of period 1, amount of period 2...)."""
        result = [{} for _period in periods]
        for partner_id, *amounts in rows:
            for index, amount in enumerate(amounts):
                if amount:
                    result[index][partner_id] = float(amount)
        return result

    @api.model
    def _unit_cost_sql(self, alias, field, default_field, company):
        """The company's own cost of a medium/activity type row, else its default cost."""
        return SQL(
            "COALESCE((%(a)s.%(f)s ->> %(company)s)::numeric, %(a)s.%(d)s, 0)",
            a=SQL(alias),
            f=SQL.identifier(field),
            d=SQL.identifier(default_field),
            company=str(company.id),
        )

    @api.model
    def _contact_costs(self, company, partner_ids, periods):
        """[{partner: cost of its campaign contacts}] per period [(date_from, date_to)]."""
        if not partner_ids:
            return [{} for _period in periods]
        self.env["crm.lead"].flush_model(["campaign_id", "medium_id", "partner_id", "company_id"])
        self.env["sale.order"].flush_model(
            ["campaign_id", "medium_id", "partner_id", "company_id", "opportunity_id"]
        )
        self.env["utm.medium"].flush_model(["ror_contact_cost", "ror_default_contact_cost"])
        rows = self.env.execute_query(
            SQL(
                """
                WITH contacts AS (
                    SELECT l.partner_id, l.medium_id, l.create_date
                      FROM crm_lead l
                     WHERE l.company_id = %(company)s AND l.campaign_id IS NOT NULL AND l.medium_id IS NOT NULL
                 UNION ALL
                    SELECT o.partner_id, o.medium_id, o.create_date
                      FROM sale_order o
                 LEFT JOIN crm_lead ol ON ol.id = o.opportunity_id
                     WHERE o.company_id = %(company)s AND o.state != 'cancel'
                       AND o.campaign_id IS NOT NULL AND o.medium_id IS NOT NULL
                       AND ol.campaign_id IS DISTINCT FROM o.campaign_id
                    %(traces)s
                )
                SELECT p.commercial_partner_id, %(sums)s
                  FROM contacts c
                  JOIN res_partner p ON p.id = c.partner_id
                  JOIN utm_medium m ON m.id = c.medium_id
                 WHERE p.commercial_partner_id = ANY(%(partners)s::int4[])
                   AND c.create_date::date <= %(date_to)s
              GROUP BY p.commercial_partner_id
                """,
                company=company.id,
                traces=self._mailing_trace_contacts(company),
                sums=self._period_sums(
                    self._unit_cost_sql("m", "ror_contact_cost", "ror_default_contact_cost", company),
                    SQL("c.create_date::date"),
                    periods,
                ),
                partners=int4_array(partner_ids),
                date_to=max(date_to for _date_from, date_to in periods),
            )
        )
        return self._period_rows(rows, periods)

    @api.model
    def _mailing_trace_contacts(self, company):
        """``UNION ALL`` branch of the contacts: the mass mailings delivered to the company's customers
        (their documents: partners, leads, orders), when mass_mailing is installed; empty otherwise.

        Read from the tables, without depending on mass_mailing. A trace to a partner of no company
        counts in every company the partner buys from; one to a lead or an order in its company.
        """
        if not sql.table_exists(self.env.cr, "mailing_trace"):
            return SQL()
        if "mailing.trace" in self.env:
            self.env["mailing.trace"].flush_model()
            self.env["mailing.mailing"].flush_model(["medium_id"])
        return SQL(
            """
             UNION ALL
                SELECT COALESCE(tp.id, tl.partner_id, tso.partner_id), mm.medium_id,
                       COALESCE(t.sent_datetime, t.create_date)
                  FROM mailing_trace t
                  JOIN mailing_mailing mm ON mm.id = t.mass_mailing_id
             LEFT JOIN res_partner tp ON t.model = 'res.partner' AND tp.id = t.res_id
             LEFT JOIN crm_lead tl ON t.model = 'crm.lead' AND tl.id = t.res_id
             LEFT JOIN sale_order tso ON t.model = 'sale.order' AND tso.id = t.res_id
                 WHERE t.trace_status IN %(delivered)s AND mm.medium_id IS NOT NULL
                   AND COALESCE(tp.company_id, tl.company_id, tso.company_id, %(company)s) = %(company)s
            """,
            delivered=MAILING_DELIVERED,
            company=company.id,
        )

    @api.model
    def _activity_costs(self, company, partner_ids, periods):
        """[{partner: cost of its done activities}] per period: the activities' chatter messages on the
        customer, its leads and its orders."""
        if not partner_ids:
            return [{} for _period in periods]
        self.env["mail.message"].flush_model(
            ["model", "res_id", "mail_activity_type_id", "record_company_id", "date"]
        )
        self.env["mail.activity.type"].flush_model(["ror_cost", "ror_default_cost"])
        rows = self.env.execute_query(
            SQL(
                """
                -- from the activities' messages to their customer, not from every partner, lead and
                -- order of the customers to their messages (a few messages, many documents)
                SELECT p.commercial_partner_id, %(sums)s
                  FROM mail_message m
                  JOIN mail_activity_type kind ON kind.id = m.mail_activity_type_id
             LEFT JOIN crm_lead tl ON m.model = 'crm.lead' AND tl.id = m.res_id
             LEFT JOIN sale_order tso ON m.model = 'sale.order' AND tso.id = m.res_id
                  JOIN res_partner p
                    ON p.id = CASE m.model WHEN 'res.partner' THEN m.res_id WHEN 'crm.lead' THEN tl.partner_id
                                           WHEN 'sale.order' THEN tso.partner_id END
                 WHERE m.mail_activity_type_id IS NOT NULL AND m.record_company_id = %(company)s
                   AND m.model IN ('res.partner', 'crm.lead', 'sale.order')
                   AND m.date::date <= %(date_to)s AND p.commercial_partner_id = ANY(%(partners)s::int4[])
              GROUP BY p.commercial_partner_id
                """,
                company=company.id,
                sums=self._period_sums(
                    self._unit_cost_sql("kind", "ror_cost", "ror_default_cost", company),
                    SQL("m.date::date"),
                    periods,
                ),
                partners=int4_array(partner_ids),
                date_to=max(date_to for _date_from, date_to in periods),
            )
        )
        return self._period_rows(rows, periods)

    @api.model
    def _providers(self):
        """Models of other addons that add costs to serve (``_crm_ror_cost_to_serve``), by name."""
        providers, seen = [], set()
        for name in sorted(self.env.registry.models):
            method = getattr(self.env.registry[name], "_crm_ror_cost_to_serve", None)
            if method is None:
                continue
            key = getattr(method, "__func__", method)
            if key not in seen:
                seen.add(key)
                providers.append(name)
        return providers

    @api.model
    def _other_costs(self, company, partner_ids, date_from, date_to):
        result = defaultdict(float)
        if not partner_ids:
            return result
        for name in self._providers():
            # sudo: providers sum other addons' records (e.g. reward lines) into the company-wide figures.
            amounts = (
                self.env[name].sudo()._crm_ror_cost_to_serve(company, list(partner_ids), date_from, date_to)
            )
            for partner_id, amount in (amounts or {}).items():
                result[partner_id] += amount or 0.0
        return result
