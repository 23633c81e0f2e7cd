{
    "name": "CRM Balanced Scorecard",
    "summary": "Balanced scorecard of CRM KPIs computed from live Odoo data, per sales team",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CRM ROR Contributors",
    "website": "https://github.com/crm-ror/crm-addons",
    "license": "LGPL-3",
    "depends": [
        "crm",
        "sale",
    ],
    "data": [
        "security/crm_scorecard_security.xml",
        "security/ir.model.access.csv",
    ],
    "application": True,
    "installable": True,
}
