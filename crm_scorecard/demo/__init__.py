from . import crm_scorecard_demo
