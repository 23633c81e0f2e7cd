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
    ],
    "application": True,
    "installable": True,
}
