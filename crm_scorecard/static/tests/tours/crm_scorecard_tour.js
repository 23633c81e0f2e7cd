/** @odoo-module **/

import { queryOne, waitUntil } from "@odoo/hoot-dom";
import { browser } from "@web/core/browser/browser";
import { download } from "@web/core/network/download";
import { registry } from "@web/core/registry";

const XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const periodLabel = () => queryOne(".o_form_view .o_field_widget[name='period_label']").textContent.trim();

function within(promise, what, ms = 20000) {
    return Promise.race([
        promise,
        new Promise((resolve, reject) => setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)),
    ]);
}

/** Wait for the web client's report download to end (it rejects on a server error). */
async function downloadEnds() {
    const original = download._download;
    let done;
    const downloaded = new Promise((resolve) => (done = resolve));
    download._download = async (options) => {
        const result = await original(options);
        done(options);
        return result;
    };
    try {
        const options = await within(downloaded, "the report download");
        if (options.url !== "/report/download" || !options.data.data.includes("crm_scorecard.report_scorecard")) {
            throw new Error(`Unexpected download: ${JSON.stringify(options)}`);
        }
    } finally {
        download._download = original;
    }
}

// A scorecard made from a template for a sales team, browsed one period back, then printed
// and exported for that period (the test checks on the server what was rendered).
registry.category("web_tour.tours").add("crm_scorecard_template_print_export", {
    url: "/odoo/action-crm_scorecard.crm_scorecard_action",
    steps: () => [
        {
            content: "open the Scorecards menu",
            trigger: ".o_main_navbar [data-menu-xmlid='crm_scorecard.crm_scorecard_menu_root']",
            run: "click",
        },
        {
            content: "new scorecard from a template",
            trigger: ".dropdown-item[data-menu-xmlid='crm_scorecard.crm_scorecard_template_wizard_menu']",
            run: "click",
        },
        {
            content: "choose the template",
            trigger: ".modal .o_field_widget[name='template_id'] input",
            run: "edit Customer conversion",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains('Customer conversion scorecard')",
            run: "click",
        },
        {
            content: "for the sales team",
            trigger: ".modal .o_field_widget[name='team_id'] input",
            run: "edit Tour Team",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains('Tour Team')",
            run: "click",
        },
        {
            content: "name it",
            trigger: ".modal .o_field_widget[name='name'] input",
            run: "edit Tour Scorecard",
        },
        {
            content: "create it",
            trigger: ".modal button[name='action_create']",
            run: "click",
        },
        {
            content: "the new scorecard opens, with its KPI lines",
            trigger: ".o_form_view .o_field_widget[name='name'] input:value('Tour Scorecard')",
        },
        {
            trigger: ".o_form_view .o_data_row",
        },
        {
            content: "step to the previous period",
            trigger: ".o_form_view button[name='action_previous_period']",
            timeout: 30000,
            async run(helpers) {
                const before = periodLabel();
                await helpers.click();
                await waitUntil(() => periodLabel() && periodLabel() !== before, { timeout: 20000 });
            },
        },
        {
            content: "open the report and export dialog",
            trigger: ".o_form_view button[name='action_open_period_wizard']",
            run: "click",
        },
        {
            content: "print the PDF",
            trigger: ".modal button[name='action_print']",
            timeout: 30000, // the report is rendered while the UI waits, longer on a busy machine
            async run(helpers) {
                const downloaded = downloadEnds();
                await helpers.click();
                await downloaded;
            },
        },
        {
            content: "export the XLSX: the browser is sent to a URL that answers with the file",
            trigger: ".modal button[name='action_export_xlsx']:enabled",
            timeout: 30000,
            async run(helpers) {
                // The button sends the browser to the file's URL (a download, the page stays);
                // the tour fetches that URL itself, to check what the server answers.
                let assign;
                const assigned = new Promise((resolve) => (assign = resolve));
                Object.defineProperty(browser, "location", { configurable: true, get: () => ({ assign }) });
                try {
                    await helpers.click();
                    const url = await within(assigned, "the XLSX export");
                    const response = await fetch(url);
                    const type = response.headers.get("Content-Type");
                    const disposition = response.headers.get("Content-Disposition") || "";
                    if (!response.ok || type !== XLSX_MIMETYPE || !disposition.includes(".xlsx")) {
                        throw new Error(`XLSX export ${url}: ${response.status} ${type} ${disposition}`);
                    }
                } finally {
                    Object.defineProperty(browser, "location", {
                        configurable: true,
                        get: () => window.location,
                        set: (value) => (window.location = value),
                    });
                }
            },
        },
        {
            content: "still on the scorecard, no error dialog",
            trigger: "body:not(:has(.o_error_dialog)) .o_form_view button[name='action_open_period_wizard']",
        },
    ],
});
