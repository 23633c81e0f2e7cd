from . import (
    crm_ror_forecast_line,
    crm_ror_forecast_wizard,
    crm_ror_lead_reassign_wizard,
    crm_ror_leads_needed_line,
    crm_ror_leads_needed_wizard,
)
