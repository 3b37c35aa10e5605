from datetime import date

from tradeline.dashboard.templatetags.tradeline_ui import bar_chart, label, status_badge, usd


def test_usd_formats_cents_as_dollars():
    assert [usd(v) for v in (0, 5, 123456, -20060, None, "")] == ["$0.00", "$0.05", "$1,234.56", "-$200.60", "—", "—"]


def test_label_and_badge():
    assert label("DISPUTE_LOST") == "Dispute lost"
    assert status_badge("ON_HOLD") == '<span class="tl-badge tl-badge-warn">on hold</span>'


def test_bar_chart_scales_to_a_round_axis_and_titles_each_bar_in_dollars():
    series = [{"day": date(2026, 11, 1), "sales": 0}, {"day": date(2026, 11, 2), "sales": 120_000}]
    svg = str(bar_chart(series, "sales"))
    assert svg.startswith('<svg class="tl-chart"')
    assert "<title>Nov 02: $1,200.00</title>" in svg and "<title>Nov 01: $0.00</title>" in svg
    assert ">$2,000<" in svg  # axis maximum: the next round figure above $1,200


def test_bar_chart_without_data_says_so():
    series = [{"day": date(2026, 11, 1), "sales": 0}]
    assert "Nothing in this period yet." in str(bar_chart(series, "sales"))
