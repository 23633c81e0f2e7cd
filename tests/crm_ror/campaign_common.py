"""Fixtures of the campaign tests: company A (USD) and B (EUR) from the value fixtures, a phone medium
at 2 per contact in A, two segments of A, and helpers for targets and won opportunities."""

from datetime import timedelta

from odoo import fields

from .value_common import CrmRorValueCase


class CrmRorCampaignCase(CrmRorValueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.phone = cls.env["utm.medium"].create({"name": "ROR Campaign Phone", "crm_ror_channel": "phone"})
        cls.phone.with_company(cls.company_a).ror_contact_cost = 2.0
        cls.phone.with_company(cls.company_b).ror_contact_cost = 7.0
        Segment = cls.env["crm.ror.segment"]
        cls.seg_1 = Segment.create({"name": "ROR Seg One", "company_id": cls.company_a.id})
        cls.seg_2 = Segment.create({"name": "ROR Seg Two", "company_id": cls.company_a.id})

    @classmethod
    def _campaign(cls, name, company=None, **values):
        return cls.env["utm.campaign"].create(
            {
                "title": name,
                "company_id": (company or cls.company_a).id,
                "crm_ror_medium_id": cls.phone.id,
                **values,
            }
        )

    @classmethod
    def _target(cls, campaign, partner, days_ago, **values):
        return cls.env["crm.ror.campaign.target"].create(
            {
                "campaign_id": campaign.id,
                "partner_id": partner.id,
                "date_targeted": cls._days_ago(days_ago),
                **values,
            }
        )

    @classmethod
    def _won_opportunity(cls, company, partner, days_ago, campaign=None):
        lead = (
            cls.env["crm.lead"]
            .with_company(company)
            .create(
                {
                    "name": f"ROR won {partner.name}",
                    "type": "opportunity",
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "campaign_id": campaign.id if campaign else False,
                }
            )
        )
        lead.action_set_won()
        lead.date_closed = fields.Datetime.now() - timedelta(days=days_ago)
        return lead

    @classmethod
    def _profile_of(cls, partner, segment, spend, margin_rate, company=None):
        return cls.env["crm.ror.customer.profile"].create(
            {
                "partner_id": partner.id,
                "company_id": (company or cls.company_a).id,
                "segment_id": segment.id,
                "clv_expected_spend": spend,
                "average_order_value": spend,
                "margin_rate": margin_rate,
                "purchase_count": 1,
            }
        )
