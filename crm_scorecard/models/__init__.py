from . import (
    crm_scorecard,
    crm_scorecard_catalog,
    crm_scorecard_kpi,
    crm_scorecard_line,
    crm_scorecard_line_band,
    crm_scorecard_manual_value,
    crm_scorecard_perspective,
    crm_scorecard_template,
    crm_scorecard_value,
)
