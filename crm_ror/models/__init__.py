from . import (
    crm_ror_key_date,
    crm_ror_product_affinity,
    crm_ror_suggestion,
    mail_activity,
    res_company_touch,
    res_config_settings_touch,
    res_partner_touch,
)
