from . import crm_loyalty_demo
