"""Pure-Python engines of the scorecard: no ORM, no database, unit-tested on their own."""
