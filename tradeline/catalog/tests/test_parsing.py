"""Defensive parsing of /pricing rows over a table of messy inputs."""

import logging

import pytest

from tradeline.catalog.supplier.parsing import (
    ParsedRow,
    Unparseable,
    parse_cents,
    parse_image,
    parse_pricing,
    parse_stock,
)


@pytest.mark.parametrize(("raw", "cents"), [
    (1250, 125_000),
    (1250.5, 125_050),
    (349.99, 34_999),
    ("1250", 125_000),
    ("1250.00", 125_000),
    ("$1,250.00", 125_000),
    ("  $ 1,250 ", 125_000),
    ('<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">&#36;'
     "</span>1,250.00</bdi></span>", 125_000),
    ("USD 1,250.50", 125_050),
    ("1,250.00 $", 125_000),
    ("$10K", 1_000_000),
    ("2.5k", 250_000),
    ("0", 0),
    ("$1,234,567.89", 123_456_789),
])
def test_money_parses(raw, cents):
    assert parse_cents(raw) == cents


@pytest.mark.parametrize("raw", [
    None, "", "Call for pricing", "$300 - $450", "-5", "-$5.00", "1.250,00", "12,34", "1.005",
    "<del>$1,500.00</del> <ins>$1,250.00</ins>", True, float("nan"), float("inf"), [], {"amount": 5}, "1e400",
    "99999999999999",
])
def test_money_rejects(raw):
    with pytest.raises(Unparseable):
        parse_cents(raw)


@pytest.mark.parametrize(("raw", "count"), [
    (3, 3), ("3", 3), ("3 available", 3), ('<span class="stock in-stock">12 in stock</span>', 12),
    ("Only 2 left", 2), (4.0, 4), ("Out of stock", 0), ("SOLD OUT", 0), (0, 0),
])
def test_stock_parses(raw, count):
    assert parse_stock(raw) == count


@pytest.mark.parametrize("raw", ["plenty", "2.5", -1, "-3 available", None, "", "1-3"])
def test_stock_rejects(raw):
    with pytest.raises(Unparseable):
        parse_stock(raw)


@pytest.mark.parametrize(("raw", "url"), [
    ("https://cdn.example.com/chase.png", "https://cdn.example.com/chase.png"),
    ('<img src="https://cdn.example.com/a.png?x=1&amp;y=2" alt="">', "https://cdn.example.com/a.png?x=1&y=2"),
    ("javascript:alert(1)", ""),
    ("/relative.png", ""),
    (None, ""),
])
def test_image(raw, url):
    assert parse_image(raw) == url


GOOD = {"card_id": "10001", "bank_name": "Chase", "credit_limit": "$10,000", "date_opened": "2015-03",
        "purchase_deadline": "Dec 5, 2026", "reporting_period": "12th - 15th", "stock": "3 available",
        "price": "$1,250.00", "image": "https://cdn.example.com/chase.png"}


def test_parse_pricing_reads_good_rows_and_counts_the_rest_in_one_warning(caplog):
    rows = [
        GOOD,
        {**GOOD, "card_id": 10002, "bank_name": "<b>Citi</b>", "price": 99, "stock": 1, "credit_limit": None},
        {**GOOD, "card_id": "10001"},  # duplicate card id: first row wins
        {**GOOD, "card_id": "10003", "price": "Call for pricing"},
        {**GOOD, "card_id": "10004", "bank_name": ""},
        {**GOOD, "card_id": "", "bank_name": "jane@example.com"},
        {**GOOD, "card_id": "10005", "stock": "plenty"},
        {**GOOD, "card_id": "10006", "credit_limit": "lots"},
        "not a row",
        None,
    ]
    with caplog.at_level(logging.WARNING, logger="tradeline.catalog.supplier.parsing"):
        result = parse_pricing(rows)
    assert result.rows == [
        ParsedRow(card_id="10001", bank_name="Chase", credit_limit=1_000_000, date_opened="2015-03",
                  purchase_deadline="Dec 5, 2026", reporting_period="12th - 15th", stock=3, price=125_000,
                  image="https://cdn.example.com/chase.png"),
        ParsedRow(card_id="10002", bank_name="Citi", credit_limit=0, date_opened="2015-03",
                  purchase_deadline="Dec 5, 2026", reporting_period="12th - 15th", stock=1, price=9_900,
                  image="https://cdn.example.com/chase.png"),
    ]
    assert (result.received, result.skipped) == (10, 8)
    assert result.reasons == {"duplicate card_id": 1, "price": 1, "bank_name": 1, "card_id": 1, "stock": 1,
                              "credit_limit": 1, "row is not an object": 2}
    [record] = caplog.records
    assert record.getMessage() == (
        "supplier pricing: skipped 8 of 10 rows that could not be read (bank_name: 1, card_id: 1, credit_limit: 1, "
        "duplicate card_id: 1, price: 1, row is not an object: 2, stock: 1)")
    assert "example.com" not in record.getMessage()


def test_parse_pricing_of_nothing_logs_nothing(caplog):
    with caplog.at_level(logging.WARNING):
        result = parse_pricing([])
    assert (result.rows, result.received, result.skipped) == ([], 0, 0)
    assert caplog.records == []


def test_pricing_rows_as_the_blueprint_documents_them_html_entities_and_string_prices():
    result = parse_pricing([
        {"card_id": 20001, "bank_name": "Citizens &amp; Northern", "credit_limit": "10000", "price": "1250.00",
         "stock": "3", "image": ""},
        {"card_id": "20002", "bank_name": "Macy&#8217;s Card", "credit_limit": "5,000.00", "price": "&#36;349.99",
         "stock": 1, "image": ""},
    ])
    assert [(r.card_id, r.bank_name, r.price, r.credit_limit, r.stock) for r in result.rows] == [
        ("20001", "Citizens & Northern", 125_000, 1_000_000, 3),
        ("20002", "Macy\u2019s Card", 34_999, 500_000, 1),
    ]
    assert result.skipped == 0
