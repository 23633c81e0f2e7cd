from . import crm_ror_segment_transition_report
