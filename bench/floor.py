"""THE FLOOR of measure a: what the customer-value recompute cannot beat.

One SQL statement computes the per-customer aggregates the recompute starts from (purchase days,
revenue, first and last purchase dates, days since the last one, R/F/M quintiles) over the same
posted invoice and credit-note lines, and writes them with one ``UPDATE ... FROM`` into a table of
the same width as ``crm_ror_customer_profile`` (``LIKE`` it), one row per customer.
"""

import time

PREPARE = """
DROP TABLE IF EXISTS bench_floor_profile;
CREATE TABLE bench_floor_profile (LIKE crm_ror_customer_profile INCLUDING DEFAULTS);
INSERT INTO bench_floor_profile (id, partner_id, company_id)
SELECT id, partner_id, company_id FROM crm_ror_customer_profile;
CREATE UNIQUE INDEX ON bench_floor_profile (partner_id, company_id);
ANALYZE bench_floor_profile;
"""

FLOOR = """
UPDATE bench_floor_profile f
   SET purchase_count = a.purchase_days, revenue = a.revenue, first_purchase_date = a.first_date,
       last_purchase_date = a.last_date, days_since_last_purchase = CURRENT_DATE - a.last_date,
       recency_score = a.r, frequency_score = a.f, monetary_score = a.m,
       rfm_code = a.r::text || a.f::text || a.m::text, computed_at = now() AT TIME ZONE 'UTC',
       reference_date = CURRENT_DATE
  FROM (SELECT s.*, ntile(5) OVER (ORDER BY s.last_date) AS r, ntile(5) OVER (ORDER BY s.purchase_days) AS f,
               ntile(5) OVER (ORDER BY s.revenue) AS m
          FROM (SELECT m.commercial_partner_id AS partner_id, m.company_id,
                       count(DISTINCT m.invoice_date) FILTER (WHERE m.move_type = 'out_invoice') AS purchase_days,
                       sum(-l.balance) AS revenue,
                       min(m.invoice_date) FILTER (WHERE m.move_type = 'out_invoice') AS first_date,
                       max(m.invoice_date) FILTER (WHERE m.move_type = 'out_invoice') AS last_date
                  FROM account_move_line l JOIN account_move m ON m.id = l.move_id
                 WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
                   AND l.display_type = 'product' AND m.invoice_date <= CURRENT_DATE
                 GROUP BY m.commercial_partner_id, m.company_id) s
         WHERE s.last_date IS NOT NULL) a
 WHERE f.partner_id = a.partner_id AND f.company_id = a.company_id
"""


def run(conn):
    """(seconds, rows written) of the floor statement; the table is prepared untimed."""
    with conn.cursor() as cr:
        cr.execute(PREPARE)
        conn.commit()
        start = time.perf_counter()
        cr.execute(FLOOR)
        rows = cr.rowcount
        conn.commit()
        return time.perf_counter() - start, rows
