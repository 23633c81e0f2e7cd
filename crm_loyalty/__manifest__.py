{
    "name": "Loyalty Tiers & Ledger",
    "summary": "Auditable points ledger, tiers by spending level, expiry, invoice-based earning and personalised coupons on Odoo loyalty",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "author": "CRM ROR Contributors",
    "website": "https://github.com/crm-ror/crm-addons",
    "license": "LGPL-3",
    "depends": [
        "sale_loyalty",
        "account",
    ],
    "data": [
        "security/crm_loyalty_security.xml",
        "security/ir.model.access.csv",
        "security/crm_loyalty_ledger_security.xml",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "views/loyalty_history_views.xml",
        "views/loyalty_card_views.xml",
        "views/loyalty_program_views.xml",
        "wizard/crm_loyalty_adjust_wizard_views.xml",
    ],
    "demo": [
        "demo/loyalty_ledger_demo.xml",
    ],
    "application": True,
    "installable": True,
}
