from . import crm_ror_pipeline_report
from . import crm_ror_segment_history
from . import crm_ror_segment_transition_report
from . import crm_ror_temperature_calibration_report
from . import crm_ror_campaign_response_report
