from . import crm_lead, crm_ror_lead_scorecard_kpi, crm_ror_nurture_log, crm_ror_nurture_rule, crm_team
