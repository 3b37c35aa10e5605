"""The emails of issue 20, HTML + text from the templates: welcome with the embed code, payout sent,
refund processed (to the customer)."""

import pytest
from django.core import mail

from tradeline.brokers.services import broker_approve, broker_create, broker_onboard, broker_suspend
from tradeline.core.mail import render_email
from tradeline.payments.services.paid import order_payment_record
from tradeline.payments.services.refunds import refund_total_apply
from tradeline.payouts.services import payout_create_monthly, payout_mark_paid
from tradeline.payouts.tests.helpers import paid_order, utc

pytestmark = pytest.mark.django_db


def test_welcome_with_the_new_publishable_key(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        broker, issued = broker_onboard(name="Wanda", email="wanda@broker.test", active=True)
    [welcome] = mail.outbox
    assert welcome.to == ["wanda@broker.test"]
    assert welcome.subject == "Welcome to Tradeline Marketplace, Wanda"
    assert f'data-key="{issued["publishable_key"]}"' in welcome.body
    html = welcome.alternatives[0][0]
    assert "&lt;script src=" in html and issued["publishable_key"] in html  # shown as code, not run


def test_welcome_only_on_the_first_approval(django_capture_on_commit_callbacks):
    broker = broker_create(name="Wes", email="wes@broker.test")
    with django_capture_on_commit_callbacks(execute=True):
        broker_approve(broker_id=broker.pk)
    assert "YOUR_PUBLISHABLE_KEY" in mail.outbox[0].body
    broker_suspend(broker_id=broker.pk)
    with django_capture_on_commit_callbacks(execute=True):
        broker_approve(broker_id=broker.pk)
    assert len(mail.outbox) == 1


def test_payout_sent(make_broker, django_capture_on_commit_callbacks):
    broker = make_broker(email="payee@broker.test", name="Payee")
    paid_order(broker=broker, paid_at=utc(2026, 7, 10))
    payout = payout_create_monthly(broker=broker, year=2026, month=7)
    with django_capture_on_commit_callbacks(execute=True):
        payout_mark_paid(payout_id=payout.pk, transaction_id="ACH-77")
    [sent] = mail.outbox
    assert sent.to == ["payee@broker.test"]
    assert sent.subject == "Your payout for July 2026 is on its way" and "$300.00" in sent.body
    assert "ACH-77" in sent.body and "ACH-77" in sent.alternatives[0][0]


def test_refund_processed_to_the_customer(make_broker, make_order, django_capture_on_commit_callbacks):
    order = make_order(broker=make_broker(business_name="Smith Credit"), customer_email="ann@example.com")
    order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                    payment_intent="pi_refund_mail")
    with django_capture_on_commit_callbacks(execute=True):
        refund_total_apply(order_id=order.pk, amount_refunded=20_000)
        refund_total_apply(order_id=order.pk, amount_refunded=20_000)  # the same total again: no mail
    [refund] = mail.outbox
    assert refund.to == ["ann@example.com"]
    assert refund.subject == f"Refund for your order {order.order_number}"
    assert "We refunded $200.00" in refund.body and "Refunded so far: $200.00 of $1,200.00." in refund.body
    assert "Smith Credit" in refund.alternatives[0][0]


def test_operator_templates_override_ours(tmp_path, settings):
    (tmp_path / "emails").mkdir()
    (tmp_path / "emails" / "broker_password_changed.subject.txt").write_text("Custom: {{ broker.name }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    subject, text, html = render_email("broker_password_changed", {"broker": {"name": "Kim"}})
    assert subject == "Custom: Kim"
    assert "password of your broker portal was just changed" in text and html.startswith("<!doctype html>")
