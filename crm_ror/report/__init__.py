from . import crm_ror_pipeline_report
