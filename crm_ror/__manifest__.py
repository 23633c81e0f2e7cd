{
    "name": "Return on Relationship",
    "summary": "Customer value profiles, RFM segments, lifetime value, return on relationship, lead temperature and pipeline analytics",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "author": "CRM ROR Contributors",
    "website": "https://github.com/crm-ror/crm-addons",
    "license": "LGPL-3",
    "depends": [
        "crm",
        "sale_management",
        "sale_crm",
        "account",
    ],
    "data": [
        "security/crm_ror_security.xml",
        "security/ir.model.access.csv",
    ],
    "external_dependencies": {"python": ["scipy", "numpy"]},
    "application": True,
    "installable": True,
}
