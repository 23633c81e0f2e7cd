"""Pure-Python helpers of crm_loyalty: no ORM, no database."""
