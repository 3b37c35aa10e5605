"""What a customer sees on returning from Stripe Checkout: the truth for each state of the order."""

import pytest

from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus
from tradeline.testing.factories import add_checkout_session

REFRESH = '<meta http-equiv="refresh" content="3">'

CASES = [
    # status, fulfillment, state, heading, words of the message, refreshes
    (OrderStatus.PENDING, FulfillmentStatus.NOT_STARTED, "waiting", "Waiting for your payment",
     "Your payment has not been confirmed yet.", True),
    (OrderStatus.PROCESSING, FulfillmentStatus.QUEUED, "placing", "Thank you for your order!",
     "Your payment was received. We are placing your order now", True),
    (OrderStatus.PROCESSING, FulfillmentStatus.FAILED, "delayed", "Thank you for your order!",
     "Placing the order is taking longer than usual", False),
    (OrderStatus.COMPLETED, FulfillmentStatus.SUCCEEDED, "placed", "Thank you for your order!",
     "Your payment was received and your order has been placed.", False),
    (OrderStatus.ON_HOLD, FulfillmentStatus.NOT_STARTED, "review", "Thank you for your order!",
     "is being reviewed before the order is placed", False),
    (OrderStatus.FAILED, FulfillmentStatus.NOT_STARTED, "failed", "Your payment failed",
     "Your bank did not complete the payment, so nothing was charged", False),
    (OrderStatus.CANCELLED, FulfillmentStatus.NOT_STARTED, "cancelled", "This order was cancelled",
     "No payment was taken for it.", False),
    (OrderStatus.REFUNDED, FulfillmentStatus.SUCCEEDED, "refunded", "This order was refunded",
     "The full amount was refunded", False),
]


@pytest.mark.django_db
@pytest.mark.parametrize("status, fulfillment, state, heading, message, refreshes", CASES,
                         ids=[case[2] for case in CASES])
@pytest.mark.parametrize("path, query", [("/demo/success", "session_id"), ("/checkout/success", "order")])
def test_return_page_tells_the_state_of_the_order(client, make_order, status, fulfillment, state, heading,
                                                  message, refreshes, path, query):
    order = make_order()
    add_checkout_session(order, "cs_test_return_1")
    Order.objects.filter(pk=order.pk).update(status=status, fulfillment_status=fulfillment)
    ref = "cs_test_return_1" if query == "session_id" else order.order_number

    html = client.get(path, {query: ref}).content.decode()

    assert f'data-state="{state}"' in html
    assert f"<h1>{heading}</h1>" in html
    assert message in html
    assert f'<strong id="order-number">{order.order_number}</strong>' in html
    assert (REFRESH in html) is refreshes
    if state == "failed":
        assert "Thank you" not in html and "We will email you as soon as it has been placed" not in html


@pytest.mark.django_db
def test_demo_success_page_with_an_unfilled_session_placeholder_claims_nothing(client):
    html = client.get("/demo/success", {"session_id": "{CHECKOUT_SESSION_ID}"}).content.decode()

    assert '<h1>We could not tell which order this is</h1>' in html
    assert "payment was received" not in html.lower()
    assert "order-number" not in html
    assert REFRESH not in html


@pytest.mark.django_db
def test_failed_order_banner_is_red_not_green(client, make_order):
    order = make_order()
    add_checkout_session(order, "cs_test_return_2")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.FAILED)

    html = client.get("/demo/success", {"session_id": "cs_test_return_2"}).content.decode()

    assert '<div class="banner bad" id="order-status">' in html
