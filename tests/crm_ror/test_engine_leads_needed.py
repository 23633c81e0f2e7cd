"""Leads-needed engine on hand-counted history (no database)."""

from odoo.addons.crm_ror.engine.leads_needed import leads_needed


def test_leads_needed_mix_and_total():
    history = {
        "web": (60, 15, 30000.0),  # conv 25 %, deal 2000, 500 per lead
        "fair": (40, 4, 20000.0),  # conv 10 %, deal 5000, 500 per lead
    }
    # 100 closed leads made 50000: 500 per lead; 100000 needs 200 leads, 60 % web / 40 % fair.
    result = leads_needed(history, 100000.0)
    assert result["value_per_lead"] == 500.0
    assert result["total_leads"] == 200
    assert abs(result["conversion_rate"] - 0.19) < 1e-12
    assert abs(result["average_deal"] - 50000.0 / 19) < 1e-9
    web, fair = result["lines"]["web"], result["lines"]["fair"]
    assert (web["leads"], fair["leads"]) == (120, 80)
    assert web["conversion_rate"] == 0.25 and web["average_deal"] == 2000.0
    assert fair["conversion_rate"] == 0.1 and fair["average_deal"] == 5000.0
    assert abs(web["mix"] - 0.6) < 1e-12
    assert abs(web["expected_revenue"] + fair["expected_revenue"] - 100000.0) < 1e-6


def test_leads_needed_rounds_up_and_handles_no_history():
    result = leads_needed({"web": (3, 1, 1000.0)}, 1000.0)  # 333.33 per lead -> 3 leads exactly
    assert result["total_leads"] == 3
    result = leads_needed({"web": (3, 1, 1000.0)}, 1001.0)
    assert result["total_leads"] == 4
    assert leads_needed({"web": (5, 0, 0.0)}, 1000.0) is None
    assert leads_needed({}, 1000.0) is None
