from . import loyalty_program
from . import loyalty_history
from . import crm_loyalty_lot_consumption
from . import loyalty_card
from . import sale_order
from . import sale_order_line
from . import account_move
from . import crm_loyalty_cost_to_serve
