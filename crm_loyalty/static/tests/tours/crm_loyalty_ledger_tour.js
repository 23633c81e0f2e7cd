/** @odoo-module **/

import { registry } from "@web/core/registry";

// Started on a quotation (the test passes the URL) of a customer in a ledger program that earns
// on invoices: confirm, invoice, post; then the customer's card shows the earned lot in its ledger.
registry.category("web_tour.tours").add("crm_loyalty_order_invoice_ledger", {
    steps: () => [
        {
            content: "confirm the quotation",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_confirm']",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='sale']",
        },
        {
            content: "create the invoice",
            trigger: ".o_form_view .o_statusbar_buttons button#create_invoice",
            run: "click",
        },
        {
            trigger: ".modal button#create_invoice_open",
            run: "click",
        },
        {
            content: "post the invoice",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_post']",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='posted']",
        },
        {
            content: "open the customer",
            trigger: ".o_form_view .o_field_widget[name='partner_id'] a:contains('Tour Member')",
            run: "click",
        },
        {
            content: "open the customer's Loyalty tab",
            trigger: ".o_notebook_headers a[name='crm_loyalty']",
            run: "click",
        },
        {
            content: "the invoiced points are on the balance",
            trigger: ".tab-pane.active .o_field_widget[name='crm_loyalty_points']:contains('400')",
        },
        {
            content: "open the card",
            trigger: ".tab-pane.active .o_field_widget[name='crm_loyalty_card_id'] a",
            run: "click",
        },
        {
            content: "the card's balance",
            trigger: ".o-form-buttonbox button[name='action_view_ledger']:contains('Ledger Balance'):contains('400')",
        },
        {
            content: "open the ledger",
            trigger: ".o_notebook_headers a[name='ledger']",
            run: "click",
        },
        {
            content: "one earn line of 400 points, a lot with its expiry date and all of it remaining",
            trigger:
                ".o_field_widget[name='ledger_line_ids'] .o_data_row" +
                ":has(td[name='move_type']:contains('Earn'))" +
                ":has(td[name='points']:contains('400'))" +
                ":has(td[name='remaining_points']:contains('400'))" +
                ":has(td[name='expiry_date']:not(:empty))",
        },
    ],
});
