"""The bench's steps, each run by ``child.py`` in a fresh Odoo process with ``(env, **arguments)``.

``setup_records`` creates the few configuration records through the ORM (currency, journal,
salespeople, products, programs, the scorecard); the bulk data is loaded with SQL by
``load.py``. Every ``measure_*`` calls the addons' own entry points, the scheduled actions by
their XML id when there is one: the code measured is the addons', none of it is copied here.
"""

import statistics
import time
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

import odoo

# Salespeople per size (a few of them leave the company: their leads go to the team leaders).
USERS = {"small": 6, "medium": 12, "large": 30}
PRODUCTS = 120
# Orders confirmed and invoices posted one by one in measure f, per program.
DOCUMENTS = {"small": 30, "medium": 200, "large": 200}

CRONS = {
    "profiles": "crm_ror.ir_cron_crm_ror_compute_profiles",
    "suggestions": "crm_ror.ir_cron_crm_ror_suggestions",
    "lead_daily": "crm_ror.ir_cron_crm_ror_lead_temperature",
    "scorecard_history": "crm_scorecard.ir_cron_crm_scorecard_history",
    "loyalty_expiry": "crm_loyalty.ir_cron_expire_points",
    "loyalty_tiers": "crm_loyalty.ir_cron_tier_requalify",
    "loyalty_coupons": "crm_loyalty.ir_cron_issue_coupons",
}


def _counter():
    return odoo.sql_db.sql_counter


def run_cron(env, key):
    """Run a scheduled action by XML id the way 'Run manually' does; raises when it is missing."""
    cron = env.ref(CRONS[key], raise_if_not_found=False)
    if not cron:
        raise LookupError(f"scheduled action {CRONS[key]} not found (renamed or removed?)")
    cron.method_direct_trigger()
    env.flush_all()


def timed(function):
    """(seconds, queries) of one call."""
    queries, start = _counter(), time.perf_counter()
    function()
    return time.perf_counter() - start, _counter() - queries


# ----------------------------------------------------------------------------------------
# Setup: configuration records through the ORM (tens of records, not the bulk)
# ----------------------------------------------------------------------------------------


def setup_records(env, size):
    company = env.company
    today = date.today()
    result = {"company_id": company.id, "company_currency_id": company.currency_id.id}

    # Second currency with monthly rates over the three years of history.
    second = env.ref("base.EUR") if company.currency_id != env.ref("base.EUR") else env.ref("base.GBP")
    second.active = True
    env["res.currency.rate"].search([("currency_id", "=", second.id)]).unlink()
    months = [today.replace(day=1) - relativedelta(months=n) for n in range(37)]
    env["res.currency.rate"].create(
        [
            {"currency_id": second.id, "name": day, "rate": 0.85 + 0.1 * ((index % 12) / 12.0)}
            for index, day in enumerate(months)
        ]
    )
    result["second_currency_id"] = second.id

    # The history is posted in a journal of its own: new invoices keep the stock sequence.
    stock_journal = env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
    )
    journal = env["account.journal"].create(
        {
            "name": "Bench history",
            "code": "BHIS",
            "type": "sale",
            "company_id": company.id,
            "default_account_id": stock_journal.default_account_id.id,
        }
    )
    result["journal_id"] = journal.id
    result["income_account_id"] = journal.default_account_id.id
    result["receivable_account_id"] = (
        env["res.partner"]
        ._fields["property_account_receivable_id"]
        .get_company_dependent_fallback(env["res.partner"])
        or env["account.account"].search(
            [("account_type", "=", "asset_receivable"), ("company_ids", "in", company.id)], limit=1
        )
    ).id

    # Salespeople in three teams; two of them have left (archived) and keep open leads.
    sales_group = env.ref("sales_team.group_sale_salesman")
    users = env["res.users"].create(
        [
            {
                "name": f"Bench Salesperson {n}",
                "login": f"bench.sales.{n}@example.com",
                "email": f"bench.sales.{n}@example.com",
                "groups_id": [odoo.Command.link(sales_group.id)],
            }
            for n in range(USERS[size])
        ]
    )
    teams = env["crm.team"].create(
        [
            {"name": f"Bench Team {n}", "user_id": users[n].id, "use_leads": True, "use_opportunities": True}
            for n in range(3)
        ]
    )
    for index, user in enumerate(users):
        teams[index % 3].member_ids |= user
    departed = users[-2:]
    result["user_ids"] = users.ids
    result["team_ids"] = teams.ids
    result["team_of_user"] = {user.id: teams[index % 3].id for index, user in enumerate(users)}
    departed.action_archive()

    # Products with a cost (for margins) and a price.
    products = env["product.product"].create(
        [
            {
                "name": f"Bench Product {n:03d}",
                "type": "consu",
                "list_price": 10.0 + 7.0 * (n % 40),
                "standard_price": (10.0 + 7.0 * (n % 40)) * (0.45 + 0.01 * (n % 30)),
                "sale_ok": True,
            }
            for n in range(PRODUCTS)
        ]
    )
    result["product_ids"] = products.ids
    result["uom_id"] = products[0].uom_id.id

    # Sources, mediums (with a contact cost for the costs to serve) and campaigns.
    sources = env["utm.source"].create([{"name": f"Bench source {n}"} for n in range(4)])
    mediums = env["utm.medium"].create([{"name": f"Bench medium {n}"} for n in range(3)])
    for index, medium in enumerate(mediums):
        if "ror_contact_cost" in medium._fields:
            medium.ror_contact_cost = 2.0 + 3.0 * index
    campaigns = env["utm.campaign"].create([{"name": f"Bench campaign {n}"} for n in range(3)])
    result["source_ids"] = sources.ids
    result["medium_ids"] = mediums.ids
    result["campaign_ids"] = campaigns.ids
    activity_types = env["mail.activity.type"].search([("res_model", "in", (False, "crm.lead"))])
    if "ror_cost" in activity_types._fields:
        for index, kind in enumerate(activity_types):
            kind.ror_cost = 5.0 + index
    result["activity_type_ids"] = activity_types.ids
    result["stage_ids"] = env["crm.stage"].search([], order="sequence, id").ids
    result["won_stage_ids"] = env["crm.stage"].search([("is_won", "=", True)]).ids
    result["lost_reason_ids"] = env["crm.lost.reason"].search([]).ids

    if "crm.ror.nurture.rule" in env:
        todo = env.ref("mail.mail_activity_data_todo")
        env["crm.ror.nurture.rule"].create(
            [
                {"name": "Bench: call idle leads", "min_idle_days": 30, "activity_type_id": todo.id},
                {"name": "Bench: revive cold leads", "min_idle_days": 90, "activity_type_id": todo.id},
            ]
        )

    result.update(_setup_loyalty(env, products))
    result.update(_setup_scorecard(env, users[0], teams[0]))
    return result


def _setup_loyalty(env, products):
    """A loyalty program with the ledger and tiers, the same program without them, and a campaign."""
    Program = env["loyalty.program"]

    def program(name, ledger):
        values = {
            "name": name,
            "program_type": "loyalty",
            "applies_on": "both",
            "trigger": "auto",
            "rule_ids": [
                odoo.Command.create(
                    {"reward_point_mode": "money", "reward_point_amount": 1.0, "minimum_qty": 0}
                )
            ],
            "reward_ids": [
                odoo.Command.create(
                    {
                        "reward_type": "discount",
                        "discount": 5.0,
                        "discount_mode": "percent",
                        "required_points": 500,
                    }
                )
            ],
        }
        if ledger:
            values.update(
                ledger_enabled=True,
                points_validity=12,
                points_validity_unit="month",
                crm_tier_ids=[
                    odoo.Command.create(
                        {"name": "Silver", "min_amount": 500.0, "multiplier": 1.0, "sequence": 1}
                    ),
                    odoo.Command.create(
                        {"name": "Gold", "min_amount": 2000.0, "multiplier": 1.25, "sequence": 2}
                    ),
                    odoo.Command.create(
                        {"name": "Platinum", "min_amount": 6000.0, "multiplier": 1.5, "sequence": 3}
                    ),
                ],
            )
        return Program.create(values)

    ledger = program("Bench loyalty (ledger and tiers)", True)
    stock = program("Bench loyalty (stock, no ledger)", False)
    # Only one automatic loyalty program applies at a time: measure f switches them.
    stock.active = False
    coupons = Program.create(
        {
            "name": "Bench campaign coupons",
            "program_type": "coupons",
            "applies_on": "current",
            "trigger": "with_code",
            "reward_ids": [odoo.Command.create({"reward_type": "discount", "discount": 10.0})],
        }
    )
    env["crm.loyalty.coupon.campaign"].create(
        {
            "name": "Bench monthly coupons",
            "loyalty_program_id": ledger.id,
            "coupon_program_id": coupons.id,
            "date_start": date.today() - timedelta(days=40),
        }
    )
    return {
        "ledger_program_id": ledger.id,
        "stock_program_id": stock.id,
        "tier_ids": ledger.crm_tier_ids.sorted("min_amount").ids,
    }


def _setup_scorecard(env, owner, team):
    """A monthly scorecard of 25 KPIs: catalog, Odoo query, formula and manual ones."""
    Kpi = env["crm.scorecard.kpi"]
    catalog = env["crm.scorecard.catalog"]._collect_catalog()
    kpis = Kpi.search([("source", "=", "catalog")])
    covered = set(kpis.mapped("catalog_code"))
    missing = [code for code in sorted(catalog) if code not in covered]
    kpis |= Kpi.create(
        [
            {
                "name": catalog[code]["name"],
                "code": "bench_" + code.replace(".", "_"),
                "source": "catalog",
                "catalog_code": code,
                "perspective": catalog[code]["perspective"],
                "direction": catalog[code]["direction"],
                "unit": catalog[code].get("unit"),
            }
            for code in missing
        ]
    )
    kpis = kpis[:15]

    def model(name):
        return env["ir.model"]._get(name)

    def field(model_name, name):
        return env["ir.model.fields"]._get(model_name, name)

    query_specs = [
        ("bench_leads_created", "crm.lead", "[]", "create_date", "count", None, "customer"),
        (
            "bench_opportunities",
            "crm.lead",
            "[('type', '=', 'opportunity')]",
            "create_date",
            "count",
            None,
            "process",
        ),
        (
            "bench_order_revenue",
            "sale.order",
            "[('state', '=', 'sale')]",
            "date_order",
            "sum",
            "amount_untaxed",
            "financial",
        ),
        (
            "bench_invoiced",
            "account.move",
            "[('move_type', '=', 'out_invoice'), ('state', '=', 'posted')]",
            "invoice_date",
            "sum",
            "amount_untaxed_signed",
            "financial",
        ),
        (
            "bench_order_value",
            "sale.order",
            "[('state', '=', 'sale')]",
            "date_order",
            "avg",
            "amount_untaxed",
            "financial",
        ),
    ]
    queries = Kpi.create(
        [
            {
                "name": code.replace("_", " ").title(),
                "code": code,
                "source": "query",
                "model_id": model(model_name).id,
                "domain": domain,
                "date_field_id": field(model_name, date_field).id,
                "aggregate": aggregate,
                "field_id": field(model_name, fname).id if fname else False,
                "perspective": perspective,
            }
            for code, model_name, domain, date_field, aggregate, fname, perspective in query_specs
        ]
    )
    manuals = Kpi.create(
        [
            {
                "name": "Bench staff trained",
                "code": "bench_trained",
                "source": "manual",
                "perspective": "learning",
            },
            {"name": "Bench NPS", "code": "bench_nps", "source": "manual", "perspective": "customer"},
        ]
    )
    formulas = Kpi.create(
        [
            {
                "name": "Bench revenue per order",
                "code": "bench_revenue_per_order",
                "source": "formula",
                "formula": "bench_order_revenue / bench_opportunities",
                "perspective": "financial",
            },
            {
                "name": "Bench opportunity share",
                "code": "bench_opportunity_share",
                "source": "formula",
                "formula": "100 * bench_opportunities / bench_leads_created",
                "perspective": "process",
            },
            {
                "name": "Bench trained per team",
                "code": "bench_trained_share",
                "source": "formula",
                "formula": "bench_trained / 3",
                "perspective": "learning",
            },
        ]
    )
    all_kpis = kpis | queries | manuals | formulas
    kinds = ("financial", "customer", "process", "learning")
    scorecard = env["crm.scorecard"].create(
        {
            "name": "Bench scorecard (25 KPIs)",
            "team_id": team.id,
            "user_id": owner.id,
            "period_type": "month",
            "perspective_ids": [
                odoo.Command.create({"name": kind.title(), "kind": kind, "sequence": index * 10})
                for index, kind in enumerate(kinds, start=1)
            ],
        }
    )
    perspectives = {p.kind: p for p in scorecard.perspective_ids}
    env["crm.scorecard.line"].create(
        [
            {
                "scorecard_id": scorecard.id,
                "perspective_id": perspectives[kpi.perspective or "customer"].id,
                "kpi_id": kpi.id,
                "sequence": index,
                # the goal beyond the baseline in the KPI's direction, as the line requires
                "baseline": 1000.0 if kpi.direction == "min" else 0.0,
                "target": 100.0,
                "max_value": 1000.0,
            }
            for index, kpi in enumerate(all_kpis)
        ]
    )
    env["crm.scorecard.manual.value"].create(
        [
            {"scorecard_id": scorecard.id, "kpi_id": manuals[0].id, "value": 12.0},
            {"scorecard_id": scorecard.id, "kpi_id": manuals[1].id, "value": 41.0},
        ]
    )
    return {"scorecard_id": scorecard.id, "scorecard_kpis": len(all_kpis)}


# ----------------------------------------------------------------------------------------
# Measures
# ----------------------------------------------------------------------------------------


def measure_profiles(env):
    """a. The full customer-value recompute: the addon's daily scheduled action."""
    run_cron(env, "profiles")
    return {"profiles": env["crm.ror.customer.profile"].search_count([])}


def measure_suggestions(env):
    """c. The suggestion recompute (affinity, cross-sell, reorder, up-sell)."""
    run_cron(env, "suggestions")
    return {"suggestions": env["crm.ror.suggestion"].search_count([])}


def _form_specification(env, model_name):
    """The ``web_read`` specification the web client sends for the model's form view."""
    views = env[model_name].get_views([(False, "form")])
    models = views["models"]

    def spec_of(name, depth=0):
        fields_spec = {}
        for fname, info in models[name]["fields"].items():
            relation = info.get("relation")
            if info.get("type") in ("one2many", "many2many") and relation in models and depth < 1:
                fields_spec[fname] = {"fields": spec_of(relation, depth + 1)}
            elif info.get("type") == "many2one":
                fields_spec[fname] = {"fields": {"display_name": {}}}
            else:
                fields_spec[fname] = {}
        return fields_spec

    return spec_of(model_name)


def measure_documents(env, size, ledger_program_id, stock_program_id, product_ids):
    """f. Confirm orders and post their invoices one by one with the ledger program, and the same
    orders with the same program in stock sale_loyalty (ledger off), alternately so that the load
    of the machine weighs on both alike; medians per document. Rolled back after."""
    count = DOCUMENTS[size]
    Program = env["loyalty.program"].with_context(active_test=False)
    programs = {"ledger": Program.browse(ledger_program_id), "stock": Program.browse(stock_program_id)}
    partners = env["res.partner"].search([("customer_rank", ">", 0), ("is_company", "=", True)], limit=count)
    products = env["product.product"].browse(product_ids[:12])

    def orders_of():
        return env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "order_line": [
                        odoo.Command.create(
                            {"product_id": products[(index + n) % len(products)].id, "product_uom_qty": 1 + n}
                        )
                        for n in range(3)
                    ],
                }
                for index, partner in enumerate(partners)
            ]
        )

    def use(label):
        """Only one automatic loyalty program applies at a time."""
        (programs["ledger"] | programs["stock"]).write({"active": False})
        programs[label].active = True
        env.flush_all()

    orders = {label: orders_of() for label in programs}
    env.flush_all()
    samples = {(what, label): [] for what in ("confirm", "post") for label in programs}
    for index in range(len(partners)):
        for label in programs:
            use(label)
            order = orders[label][index]
            samples["confirm", label].append(
                timed(lambda order=order: (order.action_confirm(), env.flush_all()))
            )
    invoices = {}
    for label in programs:
        use(label)
        invoices[label] = orders[label]._create_invoices(grouped=True)
        env.flush_all()
    for index in range(len(partners)):
        for label in programs:
            use(label)
            invoice = invoices[label][index]
            samples["post", label].append(
                timed(lambda invoice=invoice: (invoice.action_post(), env.flush_all()))
            )
    env.cr.rollback()
    return [
        {
            "part": f"{what}_{label}",
            "seconds": statistics.median(s for s, _q in values),
            "queries": statistics.median(q for _s, q in values),
            "documents": len(values),
        }
        for (what, label), values in samples.items()
    ]


def measure_cron(env, key):
    """d, e, g: one scheduled action of the addons, by XML id, in a process of its own."""
    run_cron(env, key)


def measure_scorecard_form(env, scorecard_id):
    """e. The scorecard's form load: the ``web_read`` the web client sends for its form view."""
    scorecard = env["crm.scorecard"].browse(scorecard_id)
    if not scorecard.exists():
        raise LookupError(f"bench scorecard {scorecard_id} not found (setup failed?)")
    spec = _form_specification(env, "crm.scorecard")
    scorecard.with_context(bin_size=True).web_read(spec)
    return {"lines": len(scorecard.line_ids)}
