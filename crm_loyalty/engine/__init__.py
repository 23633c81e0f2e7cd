"""Pure-Python computations of the addon (no ORM): tiers, coupon product picking."""
