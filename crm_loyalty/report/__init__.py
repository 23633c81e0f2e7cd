from . import crm_loyalty_member_report
from . import crm_loyalty_points_report
from . import crm_loyalty_retention_report
from . import crm_loyalty_coupon_report
