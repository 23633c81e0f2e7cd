from . import crm_ror_forecast_wizard
from . import crm_ror_forecast_line
from . import crm_ror_leads_needed_wizard
from . import crm_ror_leads_needed_line
from . import crm_ror_lead_reassign_wizard
from . import crm_ror_campaign_target_wizard
from . import crm_ror_campaign_projection
from . import crm_ror_campaign_projection_line
