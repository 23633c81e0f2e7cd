from . import crm_scorecard_report
