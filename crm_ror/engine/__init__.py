"""Pure-Python maths of the addon (no Odoo import): RFM scoring and lifetime value models."""
