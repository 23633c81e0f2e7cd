/** @odoo-module **/

import { registry } from "@web/core/registry";

// Started on a campaign's form (the test passes the URL): the target-selection wizard ranks a
// segment's customers, leaves out the one who must not be contacted, and lists the targets.
registry.category("web_tour.tours").add("crm_ror_campaign_target_selection", {
    steps: () => [
        {
            content: "open the target selection",
            trigger: ".o_form_view .o_statusbar_buttons button:contains('Select Targets')",
            run: "click",
        },
        {
            content: "rank the customers of a segment",
            trigger: ".modal .o_field_widget[name='segment_ids'] input",
            run: "edit Tour Gold",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains('Tour Gold')",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name='segment_ids'] .o_tag:contains('Tour Gold')",
        },
        {
            content: "select",
            trigger: ".modal button[name='action_select']",
            run: "click",
        },
        {
            // the whole figure, not a digit in it ("3" is also in "13" or "30")
            content: "three candidates, one removed as do not contact, two targeted",
            trigger: ".modal .o_field_widget[name='candidate_count']:contains(/^3$/)",
        },
        {
            trigger: ".modal .o_field_widget[name='removed_dnc_count']:contains(/^1$/)",
        },
        {
            trigger: ".modal .o_field_widget[name='selected_count']:contains(/^2$/)",
        },
        {
            content: "open the targets",
            trigger: ".modal button[name='action_open_targets']",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Alpha')",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Beta')",
        },
        {
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour Gamma')))",
        },
    ],
});
