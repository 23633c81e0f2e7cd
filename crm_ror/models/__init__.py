from . import (
    crm_ror_customer_profile,
    crm_ror_scorecard_kpi,
    crm_ror_segment,
    crm_ror_segment_snapshot,
    mail_activity_type,
    res_company,
    res_config_settings,
    res_partner,
    utm_medium,
)
