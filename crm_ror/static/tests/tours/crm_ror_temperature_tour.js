/** @odoo-module **/

import { registry } from "@web/core/registry";

// The pipeline filtered on Hot leads: the hot opportunity stays, the cold one goes; the card's
// badge carries the "why" as its tooltip, and the form breaks the score down.
registry.category("web_tour.tours").add("crm_ror_temperature_filter_why", {
    url: "/odoo/action-crm.crm_lead_action_pipeline",
    steps: () => [
        {
            content: "both opportunities show before filtering",
            trigger: ".o_kanban_record:contains('Tour Cold Deal')",
        },
        {
            trigger: ".o_kanban_record:contains('Tour Hot Deal')",
        },
        {
            content: "open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "filter on Hot",
            trigger: ".o_filter_menu .o_menu_item:contains('Hot')",
            run: "click",
        },
        {
            content: "the cold opportunity is filtered out",
            trigger: ".o_searchview_facet:contains('Hot')",
        },
        {
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains('Tour Cold Deal')))",
        },
        {
            content: "the hot one stays, its badge explains the score",
            trigger:
                ".o_kanban_record:contains('Tour Hot Deal') " +
                "span[title*='probability'][title*='priority'][title*='hot from 60'] .badge:contains('Hot')",
        },
        {
            content: "open it",
            trigger: ".o_kanban_record:contains('Tour Hot Deal')",
            run: "click",
        },
        {
            content: "the form says why it is hot",
            trigger: ".o_form_view .o_field_widget[name='temperature'] .badge:contains('Hot')",
        },
        {
            trigger: ".o_form_view label:contains('Why')",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='temperature_part_probability']",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='temperature_part_engagement']",
        },
    ],
});
