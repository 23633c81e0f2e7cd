"""THE PEER of measure b: the recompute a data analyst would write with pandas and ``lifetimes``.

Run with the bench's own virtualenv (``.local/bench-venv``, from ``bench/requirements.txt``);
pandas and lifetimes are never installed for the addons' users.

    python bench/peer.py <lines.csv>

The CSV holds the posted invoice and credit-note lines (customer, date, amount in the company's
currency, purchase flag), exported by the bench. This computes what the recompute computes per
customer: purchase days, revenue, last purchase, R/F/M quintiles (pandas ``qcut`` on ranks),
then BG/NBD and Gamma-Gamma fits (``lifetimes``) and the 12-month discounted lifetime value.
It prints one JSON line: compute seconds, peak RSS growth, customers.
"""

import json
import resource
import sys
import time
import warnings


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(path):
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    warnings.simplefilter("ignore")
    baseline = rss_mb()
    start = time.perf_counter()
    lines = pd.read_csv(path, parse_dates=["doc_date"])
    today = pd.Timestamp.today().normalize()
    per_customer = lines.groupby("partner_id").agg(revenue=("amount", "sum"))
    purchases = lines[lines["is_purchase"] == "t"]
    days = purchases.groupby(["partner_id", "doc_date"], as_index=False)["amount"].sum()
    stats = days.groupby("partner_id").agg(
        purchase_days=("doc_date", "count"), first_date=("doc_date", "min"), last_date=("doc_date", "max")
    )
    per_customer = per_customer.join(stats, how="inner")
    per_customer["recency_days"] = (today - per_customer["last_date"]).dt.days
    for column, source, ascending in (
        ("r", "recency_days", False),
        ("f", "purchase_days", True),
        ("m", "revenue", True),
    ):
        ranks = per_customer[source].rank(method="first", ascending=ascending)
        per_customer[column] = pd.qcut(ranks, 5, labels=[1, 2, 3, 4, 5]).astype(int)

    summary = summary_data_from_transaction_data(
        days, "partner_id", "doc_date", monetary_value_col="amount", observation_period_end=today, freq="W"
    )
    bgf = BetaGeoFitter(penalizer_coef=0.001).fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.001).fit(repeat["frequency"], repeat["monetary_value"])
    summary["alive"] = bgf.conditional_probability_alive(
        summary["frequency"], summary["recency"], summary["T"]
    )
    summary["expected_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(
        52, summary["frequency"], summary["recency"], summary["T"]
    )
    summary["clv"] = ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"].clip(lower=0.01),
        time=12,
        freq="W",
        discount_rate=0.01,
    )
    result = per_customer.join(summary[["alive", "expected_purchases", "clv"]], how="left")
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "rss_growth_mb": rss_mb() - baseline,
                "customers": len(result),
                "bgnbd": {k: float(v) for k, v in bgf.params_.items()},
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
