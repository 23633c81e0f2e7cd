"""The partner form's Relationship tab reads the figures of the user's current company."""

from .value_common import CrmRorValueCase


class TestRelationshipTab(CrmRorValueCase):
    def test_suggestions_of_the_current_company_only(self):
        # main: the tab listed the open suggestions of every allowed company
        suggestions = self.env["crm.ror.suggestion"].create(
            [
                {
                    "partner_id": self.p1.id,
                    "company_id": company.id,
                    "product_id": self.product.id,
                    "kind": "cross_sell",
                    "confidence": 0.5,
                    "lift": 1.5,
                    "expected_value": 10.0,
                }
                for company in (self.company_a, self.company_b)
            ]
        )
        in_a, in_b = suggestions
        both = [self.company_a.id, self.company_b.id]
        for current, expected in ((self.company_a, in_a), (self.company_b, in_b)):
            allowed = [current.id] + [cid for cid in both if cid != current.id]
            partner = self.p1.with_context(allowed_company_ids=allowed)
            self.assertEqual(partner.env.company, current)
            self.assertEqual(partner.ror_suggestion_ids, expected, current.name)
            # as the web client reads the form
            [values] = partner.web_read({"ror_suggestion_ids": {"fields": {"display_name": {}}}})
            self.assertEqual([row["id"] for row in values["ror_suggestion_ids"]], expected.ids, current.name)
