/** @odoo-module **/

import { registry } from "@web/core/registry";

// Started on a customer's form (the test passes the URL): its Relationship tab lists the open
// suggestions, and one click turns one into an opportunity.
registry.category("web_tour.tours").add("crm_ror_suggestion_to_opportunity", {
    steps: () => [
        {
            content: "open the Relationship tab",
            trigger: ".o_notebook_headers a[name='crm_ror_relationship']",
            run: "click",
        },
        {
            content: "turn the suggestion into an opportunity",
            trigger: ".o_field_widget[name='ror_suggestion_ids'] .o_data_row:contains('Tour Lamp') button[name='action_create_opportunity']",
            run: "click",
        },
        {
            content: "the opportunity opens over the customer, named after the product",
            trigger: ".o_breadcrumb:has(.o_back_button:contains('Tour Customer')) .active:contains('Tour Lamp for Tour Customer')",
        },
        {
            content: "with the suggestion's reason as its description",
            trigger: ".o_form_view .o_field_widget[name='description']:contains('Tour Desk')",
        },
    ],
});
