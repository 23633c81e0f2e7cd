"""Fill a bench database fast, with COPY and INSERT ... SELECT (no ORM), after ``setup_records``.

The customers buy by the process the lifetime-value models assume (BG/NBD): each one has a
purchase rate drawn from a Gamma and, after every purchase, drops out with a probability drawn
from a Beta; about half of them buy only once. Their invoices (some in a second currency) and
credit notes are posted over three years in a journal of their own, each with the sale order it
came from. Leads of every stage, age, owner and source, chatter messages and done activities,
loyalty members with their earned lots and tiers complete the picture.
"""

import io
import time
from datetime import date, timedelta

import numpy as np

SIZES = {
    "small": {"customers": 1_000, "lines": 10_000, "leads": 2_000},
    "medium": {"customers": 10_000, "lines": 100_000, "leads": 20_000},
    "large": {"customers": 100_000, "lines": 1_000_000, "leads": 200_000},
}
HISTORY_DAYS = 3 * 365
# BG/NBD parameters of the simulated population (rates per day).
GAMMA_SHAPE, GAMMA_SCALE = 0.9, 1.0 / 55.0
BETA_A, BETA_B = 1.0, 1.2
SECOND_CURRENCY_SHARE = 0.25
REFUND_SHARE, FULL_REFUND_SHARE = 0.06, 0.25
MEMBER_SHARE = 0.6
FAMILIES = 12  # customers buy mostly within one family of products (product affinity)
# Tables filled in bulk: their indexes are dropped during the load and built again after it,
# which is several times faster than maintaining them row by row (trigram indexes above all).
BULK_TABLES = (
    "res_partner",
    "account_move",
    "account_move_line",
    "sale_order",
    "sale_order_line",
    "crm_lead",
    "mail_message",
    "loyalty_card",
    "loyalty_history",
    "loyalty_tier_history",
    "crm_ror_customer_profile",
)


def drop_indexes(cr):
    """Drop the bulk tables' indexes that back no constraint; returns their definitions."""
    cr.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
         WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        (list(BULK_TABLES),),
    )
    indexes = cr.fetchall()
    for name, _definition in indexes:
        cr.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in indexes]


def fast_session(cr):
    """Skip the foreign-key triggers during the load (the data is consistent by construction):
    needs a superuser; without one the load is only slower."""
    cr.execute("SET maintenance_work_mem = '256MB'")
    cr.execute("SAVEPOINT fast_session")
    try:
        cr.execute("SET session_replication_role = replica")
    except Exception:  # not a superuser: foreign keys are checked row by row
        cr.execute("ROLLBACK TO SAVEPOINT fast_session")


def simulate_purchases(customers, today, rng):
    """[(customer index, day)] of the purchases of ``customers`` under BG/NBD."""
    start = today - timedelta(days=HISTORY_DAYS)
    births = rng.integers(0, HISTORY_DAYS - 20, size=customers)
    rates = rng.gamma(GAMMA_SHAPE, GAMMA_SCALE, size=customers)
    dropouts = rng.beta(BETA_A, BETA_B, size=customers)
    events = []
    for index in range(customers):
        day = int(births[index])
        events.append((index, start + timedelta(days=day)))
        while rng.random() >= dropouts[index]:
            day += max(1, int(rng.exponential(1.0 / rates[index])))
            if day >= HISTORY_DAYS:
                break
            events.append((index, start + timedelta(days=day)))
    return events


def copy_rows(cr, table, columns, rows):
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if value is None else str(value) for value in row) + "\n")
    buffer.seek(0)
    cr.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def plan_invoices(cr, customer_ids, lines, currencies, today, rng):
    """Copy into temp table bench_invoice one row per invoice and credit note of the history;
    returns (invoices, credit notes)."""
    company_currency, second_currency = currencies
    events = simulate_purchases(len(customer_ids), today, rng)
    second = rng.random(len(customer_ids)) < SECOND_CURRENCY_SHARE
    lines_per_invoice = max(lines / len(events), 1.0)
    counts = 1 + rng.poisson(lines_per_invoice - 1.0, size=len(events))
    # Scale to the exact number of lines: trim or pad the last invoices.
    excess = int(counts.sum()) - lines
    index = len(counts) - 1
    while excess and index >= 0:
        change = min(excess, counts[index] - 1) if excess > 0 else excess
        counts[index] -= change
        excess -= change
        index -= 1
    cr.execute("SELECT COALESCE(max(id), 0) FROM account_move")
    next_move = cr.fetchone()[0] + 1
    invoices, refunds = [], []
    for (customer, day), nlines in zip(events, counts, strict=True):
        invoice = {
            "partner_id": int(customer_ids[customer]),
            "day": day,
            "currency_id": second_currency if second[customer] else company_currency,
            "nlines": int(nlines),
        }
        invoices.append(invoice)
        if rng.random() < REFUND_SHARE and day + timedelta(days=30) < today:
            refunds.append(
                {
                    "origin": invoice,
                    "day": day + timedelta(days=int(rng.integers(1, 30))),
                    "full": rng.random() < FULL_REFUND_SHARE,
                }
            )
    # Moves get their ids (and their place in the table) in date order, as in a database that
    # grew day by day: a period's invoices then lie together, not spread over the whole table.
    moves = sorted(invoices + refunds, key=lambda move: move["day"])
    for number, move in enumerate(moves):
        move["id"] = next_move + number
    cr.execute(
        """
        CREATE TEMP TABLE bench_invoice (move_id int, partner_id int, inv_date date, currency_id int,
                                         nlines int, refund_of int, full_refund bool)
        """
    )
    copy_rows(
        cr,
        "bench_invoice",
        ("move_id", "partner_id", "inv_date", "currency_id", "nlines", "refund_of", "full_refund"),
        [_invoice_row(move) for move in moves],
    )
    return len(invoices), len(refunds)


def _invoice_row(move):
    """The bench_invoice row of a planned invoice or credit note (whose partner comes from its origin)."""
    if "origin" in move:
        return (move["id"], None, move["day"], None, None, move["origin"]["id"], move["full"])
    return (move["id"], move["partner_id"], move["day"], move["currency_id"], move["nlines"], None, None)


def rebuild(conn, indexes, timings, say):
    """Build the dropped indexes again, restore the foreign-key triggers, ANALYZE everything."""
    cr = conn.cursor()
    say(f"indexes: building {len(indexes)} indexes of the bulk tables again")
    start = time.perf_counter()
    for definition in indexes:
        cr.execute(definition)
    cr.execute("SET session_replication_role = DEFAULT")
    conn.commit()
    timings["indexes"] = time.perf_counter() - start
    start = time.perf_counter()
    conn.autocommit = True
    cr.execute("ANALYZE")
    conn.autocommit = False
    timings["analyze"] = time.perf_counter() - start
    cr.close()


def load(conn, size, setup, say, seed=20261201):
    """Fill the database; returns {step: seconds} of the load."""
    sizes = SIZES[size]
    rng = np.random.default_rng(seed)
    today = date.today()
    timings = {}
    cr = conn.cursor()

    def step(name, sql, params=None, analyze=()):
        start = time.perf_counter()
        cr.execute(sql, params or {})
        for table in analyze:  # the next steps join on these tables, now without their indexes
            cr.execute(f"ANALYZE {table}")
        conn.commit()
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start

    p = {
        "company": setup["company_id"],
        "ccy": setup["company_currency_id"],
        "ccy2": setup["second_currency_id"],
        "journal": setup["journal_id"],
        "income": setup["income_account_id"],
        "receivable": setup["receivable_account_id"],
        "users": setup["user_ids"],
        "teams": [setup["team_of_user"][str(u)] for u in setup["user_ids"]],
        "products": setup["product_ids"],
        "uom": setup["uom_id"],
        "sources": setup["source_ids"],
        "mediums": setup["medium_ids"],
        "campaigns": setup["campaign_ids"],
        "stages": setup["stage_ids"],
        "won_stages": setup["won_stage_ids"] or [0],
        "lost_reasons": setup["lost_reason_ids"] or [None],
        "activity_types": setup["activity_type_ids"],
        "customers": sizes["customers"],
        "leads": sizes["leads"],
        "today": today,
        "ledger_program": setup["ledger_program_id"],
        "tiers": setup["tier_ids"],
        "member_share": MEMBER_SHARE,
        "families": FAMILIES,
    }

    fast_session(cr)
    indexes = drop_indexes(cr)
    conn.commit()
    say(f"customers: {sizes['customers']:,} companies with contacts")
    step(
        "customers",
        """
        CREATE TEMP TABLE bench_customer AS
        SELECT g AS n, NULL::int AS id FROM generate_series(1, %(customers)s) g;
        WITH inserted AS (
            INSERT INTO res_partner (name, complete_name, type, active, is_company, customer_rank,
                                     supplier_rank, user_id, lang, email, autopost_bills,
                                     partner_share, color, create_uid, write_uid, create_date, write_date)
            SELECT 'Bench Customer ' || n, 'Bench Customer ' || n, 'contact', TRUE, TRUE, 1, 0,
                   (%(users)s::int[])[1 + n %% array_length(%(users)s::int[], 1)],
                   'en_US', 'customer' || n || '@bench.example.com', 'ask', TRUE, 0, 1, 1,
                   now() - interval '3 years', now()
              FROM bench_customer
            RETURNING id, name
        )
        UPDATE bench_customer c SET id = i.id FROM inserted i WHERE i.name = 'Bench Customer ' || c.n;
        UPDATE res_partner p SET commercial_partner_id = p.id, commercial_company_name = p.name
          FROM bench_customer c WHERE c.id = p.id;
        INSERT INTO res_partner (name, complete_name, type, active, is_company, parent_id,
                                 commercial_partner_id, customer_rank, supplier_rank, user_id, lang,
                                 email, autopost_bills, partner_share, color, create_uid, write_uid,
                                 create_date, write_date)
        SELECT 'Contact ' || c.n, 'Bench Customer ' || c.n || ', Contact ' || c.n, 'contact', TRUE, FALSE,
               c.id, c.id, 0, 0, p.user_id, 'en_US', 'contact' || c.n || '@bench.example.com', 'ask',
               TRUE, 0, 1, 1, now() - interval '3 years', now()
          FROM bench_customer c JOIN res_partner p ON p.id = c.id WHERE c.n %% 2 = 0;
        CREATE UNIQUE INDEX ON bench_customer (n);
        """,
        p,
        analyze=("res_partner", "bench_customer"),
    )
    cr.execute("SELECT n, id FROM bench_customer ORDER BY n")
    customer_ids = np.array([row[1] for row in cr.fetchall()])

    say("purchases: BG/NBD process over three years")
    start = time.perf_counter()
    invoices, refunds = plan_invoices(cr, customer_ids, sizes["lines"], (p["ccy"], p["ccy2"]), today, rng)
    conn.commit()
    timings["simulation"] = time.perf_counter() - start
    say(f"invoices: {invoices:,} invoices, {refunds:,} credit notes, {sizes['lines']:,} lines")
    step(
        "invoices",
        """
        UPDATE bench_invoice r SET partner_id = i.partner_id, currency_id = i.currency_id, nlines = i.nlines
          FROM bench_invoice i WHERE r.refund_of = i.move_id;
        ALTER TABLE bench_invoice ADD COLUMN rate numeric;
        UPDATE bench_invoice b SET rate = CASE WHEN b.currency_id = %(ccy)s THEN 1 ELSE COALESCE(
            (SELECT r.rate FROM res_currency_rate r WHERE r.currency_id = b.currency_id AND r.name <= b.inv_date
              ORDER BY r.name DESC LIMIT 1), 1) END;
        CREATE INDEX ON bench_invoice (move_id);
        ANALYZE bench_invoice;
        INSERT INTO account_move (id, name, journal_id, company_id, currency_id, date, invoice_date,
                                  invoice_date_due, move_type, state, payment_state, auto_post, partner_id,
                                  commercial_partner_id, invoice_user_id, team_id, invoice_currency_rate,
                                  reversed_entry_id, sequence_prefix, sequence_number, create_uid, write_uid,
                                  create_date, write_date)
        SELECT b.move_id, CASE WHEN b.refund_of IS NULL THEN 'BHIS/' ELSE 'RBHIS/' END || b.move_id,
               %(journal)s, %(company)s, b.currency_id, b.inv_date, b.inv_date, b.inv_date + 30,
               CASE WHEN b.refund_of IS NULL THEN 'out_invoice' ELSE 'out_refund' END, 'posted', 'paid', 'no',
               b.partner_id, b.partner_id, p.user_id,
               (%(teams)s::int[])[array_position(%(users)s::int[], p.user_id)], b.rate, b.refund_of,
               CASE WHEN b.refund_of IS NULL THEN 'BHIS/' ELSE 'RBHIS/' END, b.move_id, 1, 1,
               b.inv_date, b.inv_date
          FROM bench_invoice b JOIN res_partner p ON p.id = b.partner_id
         ORDER BY b.move_id;
        SELECT setval('account_move_id_seq', (SELECT max(id) FROM account_move));
        UPDATE account_move m SET payment_state = 'reversed'
          FROM bench_invoice b WHERE b.refund_of = m.id AND b.full_refund;
        """,
        p,
        analyze=("account_move",),
    )
    step(
        "invoice lines",
        """
        CREATE TEMP TABLE bench_price AS
        SELECT pp.id AS product_id, row_number() OVER (ORDER BY pp.id) AS rank, pt.list_price
          FROM product_product pp JOIN product_template pt ON pt.id = pp.product_tmpl_id
         WHERE pp.id = ANY(%(products)s);
        CREATE UNIQUE INDEX ON bench_price (rank);
        CREATE TEMP TABLE bench_line AS
        SELECT b.move_id, b.partner_id, b.inv_date, b.currency_id, b.rate, n AS sequence,
               CASE WHEN random() < 0.8
                    THEN 1 + ((b.partner_id %% %(families)s) * 10 + floor(random() * 10)::int)
                             %% array_length(%(products)s::int[], 1)
                    ELSE 1 + floor(random() * array_length(%(products)s::int[], 1))::int END AS rank,
               1 + floor(random() * 5)::int AS quantity,
               CASE WHEN random() < 0.2 THEN 10 ELSE 0 END AS discount,
               (0.9 + random() * 0.2)::numeric AS price_factor
          FROM bench_invoice b CROSS JOIN LATERAL generate_series(1, b.nlines) n
         WHERE b.refund_of IS NULL;
        INSERT INTO account_move_line (move_id, journal_id, company_id, company_currency_id, currency_id,
                                       account_id, partner_id, product_id, product_uom_id, name, quantity,
                                       price_unit, discount, price_subtotal, price_total, balance, debit,
                                       credit, amount_currency, amount_residual, amount_residual_currency,
                                       date, invoice_date, parent_state, move_name, display_type, sequence,
                                       reconciled, create_uid, write_uid, create_date, write_date)
        SELECT l.move_id, %(journal)s, %(company)s, %(ccy)s, l.currency_id, %(income)s, l.partner_id,
               pr.product_id, %(uom)s, 'Bench Product', l.quantity, v.price_unit, l.discount, v.subtotal,
               v.subtotal, -v.balance, 0, v.balance, -v.subtotal, 0, 0, l.inv_date, l.inv_date, 'posted',
               'BHIS/' || l.move_id, 'product', l.sequence, FALSE, 1, 1, l.inv_date, l.inv_date
          FROM bench_line l
          JOIN bench_price pr ON pr.rank = l.rank
         CROSS JOIN LATERAL (
             SELECT round(pr.list_price * l.price_factor * l.rate, 2) AS price_unit,
                    round(pr.list_price * l.price_factor * l.rate * l.quantity * (100 - l.discount) / 100, 2)
                        AS subtotal,
                    round(pr.list_price * l.price_factor * l.quantity * (100 - l.discount) / 100, 2) AS balance
         ) v;
        """,
        p,
        analyze=("account_move_line",),
    )
    step(
        "credit notes",
        """
        INSERT INTO account_move_line (move_id, journal_id, company_id, company_currency_id, currency_id,
                                       account_id, partner_id, product_id, product_uom_id, name, quantity,
                                       price_unit, discount, price_subtotal, price_total, balance, debit,
                                       credit, amount_currency, amount_residual, amount_residual_currency,
                                       date, invoice_date, parent_state, move_name, display_type, sequence,
                                       reconciled, create_uid, write_uid, create_date, write_date)
        SELECT b.move_id, l.journal_id, l.company_id, l.company_currency_id, l.currency_id, l.account_id,
               l.partner_id, l.product_id, l.product_uom_id, l.name, l.quantity, l.price_unit, l.discount,
               l.price_subtotal, l.price_total, -l.balance, l.credit, 0, -l.amount_currency, 0, 0,
               b.inv_date, b.inv_date, 'posted', 'RBHIS/' || b.move_id, 'product', l.sequence, FALSE, 1, 1,
               b.inv_date, b.inv_date
          FROM bench_invoice b JOIN account_move_line l ON l.move_id = b.refund_of
         WHERE b.refund_of IS NOT NULL AND (b.full_refund OR l.sequence = 1);
        INSERT INTO account_move_line (move_id, journal_id, company_id, company_currency_id, currency_id,
                                       account_id, partner_id, name, quantity, price_unit, discount,
                                       price_subtotal, price_total, balance, debit, credit, amount_currency,
                                       amount_residual, amount_residual_currency, date, invoice_date,
                                       parent_state, move_name, display_type, sequence, reconciled,
                                       date_maturity, create_uid, write_uid, create_date, write_date)
        SELECT l.move_id, l.journal_id, l.company_id, l.company_currency_id, l.currency_id, %(receivable)s,
               l.partner_id, 'BHIS/' || l.move_id, 1, 0, 0, 0, 0, -sum(l.balance),
               greatest(-sum(l.balance), 0), greatest(sum(l.balance), 0), -sum(l.amount_currency), 0, 0,
               l.date, l.invoice_date, 'posted', min(l.move_name), 'payment_term', 1000, TRUE,
               l.date + 30, 1, 1, l.date, l.date
          FROM account_move_line l JOIN bench_invoice b ON b.move_id = l.move_id
         GROUP BY l.move_id, l.journal_id, l.company_id, l.company_currency_id, l.currency_id, l.partner_id,
                  l.date, l.invoice_date;
        UPDATE account_move m
           SET amount_untaxed = s.untaxed, amount_total = s.untaxed, amount_untaxed_signed = s.signed,
               amount_total_signed = s.signed, amount_total_in_currency_signed = s.signed_currency,
               amount_untaxed_in_currency_signed = s.signed_currency, amount_tax = 0, amount_tax_signed = 0,
               amount_residual = 0, amount_residual_signed = 0
          FROM (SELECT l.move_id, sum(l.price_subtotal) AS untaxed, -sum(l.balance) AS signed,
                       -sum(l.amount_currency) AS signed_currency
                  FROM account_move_line l JOIN bench_invoice b ON b.move_id = l.move_id
                 WHERE l.display_type = 'product' GROUP BY l.move_id) s
         WHERE s.move_id = m.id;
        -- The updates above wrote every move again in no order: put them back in id (date) order.
        CLUSTER account_move USING account_move_pkey;
        """,
        p,
        analyze=("account_move_line", "account_move"),
    )
    say("sale orders: one confirmed order per invoice, with its lines")
    step(
        "sale orders",
        """
        INSERT INTO sale_order (id, name, company_id, partner_id, partner_invoice_id, partner_shipping_id,
                                date_order, state, currency_id, currency_rate, user_id, team_id,
                                invoice_status, amount_untaxed, amount_total, amount_tax, create_uid, write_uid,
                                create_date, write_date, locked, require_signature, require_payment)
        SELECT nextval('sale_order_id_seq'), 'BS' || m.id, m.company_id, m.partner_id, m.partner_id,
               m.partner_id, m.invoice_date - 2, 'sale', %(ccy)s, 1, m.invoice_user_id, m.team_id, 'invoiced',
               m.amount_untaxed_signed, m.amount_untaxed_signed, 0, 1, 1, m.invoice_date - 2, m.invoice_date,
               FALSE, FALSE, FALSE
          FROM account_move m JOIN bench_invoice b ON b.move_id = m.id AND b.refund_of IS NULL
         ORDER BY m.id;
        CREATE TEMP TABLE bench_order AS
        SELECT o.id AS order_id, substr(o.name, 3)::int AS move_id, o.date_order, o.partner_id
          FROM sale_order o WHERE o.name LIKE 'BS%%';
        CREATE INDEX ON bench_order (move_id);
        INSERT INTO sale_order_line (order_id, name, sequence, company_id, currency_id, order_partner_id,
                                     salesman_id, state, product_id, product_uom, product_uom_qty,
                                     qty_delivered, qty_invoiced, qty_to_invoice, price_unit, discount,
                                     price_subtotal, price_total, price_tax, price_reduce_taxexcl,
                                     price_reduce_taxinc, customer_lead, is_downpayment, is_expense,
                                     create_uid, write_uid, create_date, write_date)
        SELECT o.order_id, l.name, l.sequence, l.company_id, %(ccy)s, o.partner_id, m.invoice_user_id, 'sale',
               l.product_id, l.product_uom_id, l.quantity, l.quantity, l.quantity, 0,
               round(l.price_unit / m.invoice_currency_rate, 2), l.discount, -l.balance, -l.balance, 0,
               round(-l.balance / l.quantity, 2), round(-l.balance / l.quantity, 2), 0, FALSE, FALSE, 1, 1,
               o.date_order, o.date_order
          FROM bench_order o
          JOIN account_move m ON m.id = o.move_id
          JOIN account_move_line l ON l.move_id = o.move_id AND l.display_type = 'product';
        """,
        p,
        analyze=("sale_order", "sale_order_line", "bench_order"),
    )
    say(f"leads: {sizes['leads']:,} leads and opportunities with their chatter")
    step(
        "leads",
        """
        INSERT INTO crm_lead (name, type, active, stage_id, probability, automated_probability, user_id,
                              team_id, company_id, partner_id, contact_name, email_from, expected_revenue,
                              prorated_revenue, priority, source_id, medium_id, campaign_id, lost_reason_id,
                              date_open, date_last_stage_update, date_closed, date_deadline, create_date,
                              write_date, create_uid, write_uid)
        SELECT 'Bench lead ' || g, CASE WHEN g %% 10 < 3 THEN 'lead' ELSE 'opportunity' END,
               NOT v.lost, v.stage,
               CASE WHEN v.lost THEN 0 WHEN v.stage = ANY(%(won_stages)s) THEN 100 ELSE 10 + (g %% 8) * 10 END,
               CASE WHEN v.lost THEN 0 ELSE 10 + (g %% 9) * 10 END,
               v.user_id, (%(teams)s::int[])[1 + g %% array_length(%(teams)s::int[], 1)], %(company)s,
               CASE WHEN g %% 5 < 2 THEN (SELECT id FROM bench_customer WHERE n = 1 + g %% %(customers)s) END,
               'Contact ' || g, 'lead' || g || '@bench.example.com', 500 + (g %% 50) * 100,
               (500 + (g %% 50) * 100) * 0.3, (g %% 4)::text,
               CASE WHEN g %% 7 > 0 THEN (%(sources)s::int[])[1 + g %% array_length(%(sources)s::int[], 1)] END,
               CASE WHEN g %% 3 > 0 THEN (%(mediums)s::int[])[1 + g %% array_length(%(mediums)s::int[], 1)] END,
               CASE WHEN g %% 4 = 0 THEN (%(campaigns)s::int[])[1 + g %% array_length(%(campaigns)s::int[], 1)] END,
               CASE WHEN v.lost THEN (%(lost_reasons)s::int[])[1 + g %% array_length(%(lost_reasons)s::int[], 1)] END,
               v.created, v.created + (v.age * random()) * interval '1 day',
               CASE WHEN v.stage = ANY(%(won_stages)s) OR v.lost THEN v.created + v.age * interval '1 day' END,
               (v.created + interval '60 days')::date, v.created, v.created, 1, 1
          FROM generate_series(1, %(leads)s) g
         CROSS JOIN LATERAL (
             SELECT (%(stages)s::int[])[1 + g %% array_length(%(stages)s::int[], 1)] AS stage,
                    g %% 100 < 15 AS lost,
                    (%(users)s::int[])[1 + (g / 3) %% array_length(%(users)s::int[], 1)] AS user_id,
                    now() - (power(random(), 2) * 1000) * interval '1 day' AS created,
                    floor(random() * 90)::int AS age
         ) v
         ORDER BY v.created;
        """,
        p,
        analyze=("crm_lead",),
    )
    step(
        "messages",
        """
        INSERT INTO mail_message (model, res_id, record_name, message_type, subtype_id, body, author_id,
                                  email_from, date, mail_activity_type_id, record_company_id, create_date,
                                  write_date, create_uid, write_uid)
        SELECT 'crm.lead', l.id, l.name, 'notification', (SELECT id FROM mail_message_subtype
                                                           WHERE name->>'en_US' = 'Activities' LIMIT 1),
               '<p>Done</p>', 3, NULL, l.create_date + interval '3 days',
               (%(activity_types)s::int[])[1 + l.id %% array_length(%(activity_types)s::int[], 1)],
               l.company_id, l.create_date, l.create_date, 1, 1
          FROM crm_lead l WHERE l.name LIKE 'Bench lead %%' AND l.id %% 2 = 0;
        INSERT INTO mail_message (model, res_id, record_name, message_type, subtype_id, body, author_id,
                                  email_from, date, record_company_id, create_date, write_date, create_uid,
                                  write_uid)
        SELECT 'crm.lead', l.id, l.name, 'email', (SELECT id FROM mail_message_subtype
                                                   WHERE name->>'en_US' = 'Discussions' LIMIT 1),
               '<p>Question</p>', l.partner_id, l.email_from, l.create_date + interval '5 days', l.company_id,
               l.create_date, l.create_date, 1, 1
          FROM crm_lead l WHERE l.name LIKE 'Bench lead %%' AND l.id %% 3 = 0 AND l.partner_id IS NOT NULL;
        """,
        p,
    )
    say("loyalty: members of the ledger program, earned lots, tiers and their history")
    step(
        "loyalty",
        """
        INSERT INTO loyalty_card (program_id, company_id, partner_id, code, points, active, crm_tier_start_date,
                                  create_uid, write_uid, create_date, write_date)
        SELECT %(ledger_program)s, %(company)s, c.id, 'BENCH-' || c.n, 0, TRUE, (now() - interval '2 years')::date,
               1, 1, now() - interval '2 years', now()
          FROM bench_customer c WHERE c.n %% 10 < %(member_share)s * 10;
        INSERT INTO loyalty_history (card_id, description, issued, used, order_model, order_id,
                                     move_type, points, balance_after, date, user_id, partner_id, program_id,
                                     sale_order_id, source_type, expiry_date, remaining_points, earn_multiplier,
                                     base_points, idempotency_key, source_key, create_uid, write_uid, create_date,
                                     write_date)
        SELECT k.id, 'Order ' || o.name, floor(o.amount_untaxed), 0, 'sale.order', o.id, 'earn',
               floor(o.amount_untaxed),
               sum(floor(o.amount_untaxed)) OVER (PARTITION BY k.id ORDER BY o.date_order, o.id),
               o.date_order, 1, k.partner_id, k.program_id, o.id, 'sale_order',
               (o.date_order + interval '12 months')::date, floor(o.amount_untaxed), 1, floor(o.amount_untaxed),
               'sale.order:' || o.id, 'sale.order:' || o.id, 1, 1, o.date_order, o.date_order
          FROM loyalty_card k JOIN sale_order o ON o.partner_id = k.partner_id AND o.name LIKE 'BS%%'
         WHERE k.program_id = %(ledger_program)s AND o.date_order >= now() - interval '2 years';
        UPDATE loyalty_card k SET points = s.points
          FROM (SELECT card_id, sum(remaining_points) AS points FROM loyalty_history GROUP BY card_id) s
         WHERE s.card_id = k.id;
        UPDATE loyalty_card k
           SET crm_tier_id = (%(tiers)s::int[])[1 + k.id %% array_length(%(tiers)s::int[], 1)],
               crm_tier_date = (now() - interval '1 year')::date
         WHERE k.program_id = %(ledger_program)s AND k.id %% 3 > 0 AND array_length(%(tiers)s::int[], 1) > 0;
        INSERT INTO loyalty_tier_history (card_id, partner_id, program_id, company_id, date, new_tier_id, change,
                                          qualifying_amount, trigger, create_uid, write_uid, create_date,
                                          write_date)
        SELECT k.id, k.partner_id, k.program_id, k.company_id, k.crm_tier_date, k.crm_tier_id, 'upgrade',
               k.points, 'realtime', 1, 1, now(), now()
          FROM loyalty_card k WHERE k.program_id = %(ledger_program)s AND k.crm_tier_id IS NOT NULL;
        """,
        p,
        analyze=("loyalty_card", "loyalty_history"),
    )
    step(
        "profiles",
        """
        INSERT INTO crm_ror_customer_profile (partner_id, company_id, user_id)
        SELECT DISTINCT m.commercial_partner_id, m.company_id, p.user_id
          FROM account_move m JOIN res_partner p ON p.id = m.commercial_partner_id
         WHERE m.journal_id = %(journal)s
        ON CONFLICT DO NOTHING;
        """,
        p,
    )
    rebuild(conn, indexes, timings, say)
    cr.execute(
        "SELECT count(*) FILTER (WHERE n = 1), count(*) FROM "
        "(SELECT partner_id, count(*) AS n FROM bench_invoice WHERE refund_of IS NULL GROUP BY partner_id) s"
    )
    once, buyers = cr.fetchone()
    cr.close()
    return {
        "timings": timings,
        "invoices": invoices,
        "credit_notes": refunds,
        "one_time_share": once / buyers if buyers else 0.0,
    }
