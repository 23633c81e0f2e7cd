from . import crm_loyalty_adjust_wizard
from . import loyalty_generate_wizard
from . import crm_loyalty_tier_wizard
from . import base_partner_merge
