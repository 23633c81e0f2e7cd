"""Leads-needed engine on hand-counted history (no database)."""

from hypothesis import given
from hypothesis import strategies as st

from odoo.addons.crm_ror.engine.leads_needed import allocate, leads_needed


def test_leads_needed_mix_and_total():
    history = {
        "web": (60, 15, 30000.0),  # conv 25 %, deal 2000, 500 per lead
        "fair": (40, 4, 20000.0),  # conv 10 %, deal 5000, 500 per lead
    }
    # 100 counted opportunities made 50000: 500 per lead; 100000 needs 200 leads, 60 % web / 40 % fair.
    result = leads_needed(history, 100000.0)
    assert result["value_per_lead"] == 500.0
    assert result["total_leads"] == 200
    assert abs(result["conversion_rate"] - 0.19) < 1e-12
    assert abs(result["average_deal"] - 50000.0 / 19) < 1e-9
    web, fair = result["lines"]["web"], result["lines"]["fair"]
    assert (web["leads"], fair["leads"]) == (120, 80)
    assert web["conversion_rate"] == 0.25 and web["average_deal"] == 2000.0
    assert abs(web["mix"] - 0.6) < 1e-12
    assert abs(web["expected_revenue"] + fair["expected_revenue"] - 100000.0) < 1e-6


def test_cohorts_count_the_black_hole():
    # 100 opportunities created: 10 won for 10000, 10 lost, 80 still open past the lag.
    # Closed ones only would say 500 a lead (200 leads for 100000); the cohort says 100 a lead.
    result = leads_needed({"web": (100, 10, 10000.0)}, 100000.0)
    assert result["total_leads"] == 1000


def test_sources_without_wins_leave_the_mix():
    history = {"web": (50, 5, 5000.0), "cold calls": (50, 0, 0.0)}
    result = leads_needed(history, 5000.0)
    assert set(result["lines"]) == {"web"}
    assert result["total_leads"] == 50
    both = leads_needed(history, 5000.0, include_sources_without_wins=True)
    assert both["total_leads"] == 100
    assert both["lines"]["cold calls"]["leads"] == 50


def test_rounding_once_on_the_total():
    # six equal sources, 11 leads in all: per-source ceilings would make 12
    history = {f"s{index}": (6, 1, 600.0) for index in range(6)}
    result = leads_needed(history, 1100.0)
    assert result["total_leads"] == 11
    assert sum(line["leads"] for line in result["lines"].values()) == 11


def test_rounds_up_and_handles_no_history():
    assert leads_needed({"web": (3, 1, 1000.0)}, 1000.0)["total_leads"] == 3
    assert leads_needed({"web": (3, 1, 1000.0)}, 1001.0)["total_leads"] == 4
    assert leads_needed({"web": (5, 0, 0.0)}, 1000.0) is None
    assert leads_needed({}, 1000.0) is None


@given(
    st.integers(0, 10000),
    st.dictionaries(st.text(max_size=3), st.floats(0.001, 1000), min_size=1, max_size=8),
)
def test_allocate_adds_up_and_stays_within_one(total, shares):
    counts = allocate(total, shares)
    assert sum(counts.values()) == total
    weight = sum(shares.values())
    for key, count in counts.items():
        assert abs(count - total * shares[key] / weight) < 1 + 1e-6
