from . import crm_team
from . import crm_lead
from . import crm_ror_nurture_rule
from . import crm_ror_nurture_log
from . import crm_ror_lead_scorecard_kpi
