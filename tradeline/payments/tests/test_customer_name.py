"""The name the customer typed in the widget is kept; Stripe's cardholder name only fills a blank one."""

import pytest

from tradeline.orders.models import Order
from tradeline.payments.tests import events

pytestmark = pytest.mark.django_db


def test_paid_event_keeps_the_name_the_customer_typed(client, order):
    Order.objects.filter(pk=order.pk).update(customer_name="Bea Buyer")

    events.post(client, events.completed(order, name="Test Customer", phone="+15550100"))

    order.refresh_from_db()
    assert (order.customer_name, order.customer_phone) == ("Bea Buyer", "+15550100")


def test_later_event_with_a_card_name_keeps_the_typed_name(client, order):
    Order.objects.filter(pk=order.pk).update(customer_name="Bea Buyer")
    events.post(client, events.completed(order, name="", phone=""))

    events.post(client, events.completed(order, event_id="evt_again", name="Card Holder", phone="+15550101"))

    order.refresh_from_db()
    assert (order.customer_name, order.customer_phone) == ("Bea Buyer", "+15550101")


def test_paid_event_fills_a_blank_name_from_stripe(client, order):
    events.post(client, events.completed(order, name="Ada Lovelace", phone=""))

    order.refresh_from_db()
    assert order.customer_name == "Ada Lovelace"


def test_checkout_session_is_prefilled_with_the_email_the_customer_typed(order, stripe_sim):
    from tradeline.payments import stripe_gateway

    session = stripe_gateway.create_checkout_session(order=order, success_url="http://127.0.0.1/s",
                                                     cancel_url="http://127.0.0.1/c")

    assert stripe_gateway.retrieve_checkout_session(session.id)["customer_email"] == order.customer_email
