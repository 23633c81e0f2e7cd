from . import crm_ror_demo
