"""The hosted checkout page and payment links of the local Stripe server, and the stripe_sim command."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tradeline.payments.stripe_gateway import verify_webhook


def _session(stripe_sim) -> dict:
    return stripe_sim.create_checkout_session(unit_amount=60_000, quantity=2,
                                              name="Chase <b>tradeline</b>, $10,000.00 limit",
                                              description="Opened 2015-03", metadata={"order_id": "11"})


@pytest.fixture
def browser(stripe_sim):
    return stripe_sim._http  # plain HTTP, redirects not followed: we check where they point


def test_page_shows_line_items_and_total_escaped(stripe_sim, browser):
    session = _session(stripe_sim)
    page = browser.get(f"/checkout/{session['id']}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "Chase &lt;b&gt;tradeline&lt;/b&gt;, $10,000.00 limit" in html and "<b>tradeline" not in html
    assert "Qty 2 × $600.00" in html
    assert "$1,200.00" in html
    for label in ("Pay $1,200.00", "Pay with delayed method", "Decline", "Cancel"):
        assert label in html
    assert '<input name=name value=""' in html  # Stripe's page does not invent a cardholder name


def test_pay_button_delivers_then_redirects_to_success(stripe_sim, browser, webhook_receiver):
    stripe_sim.set_webhook_url(webhook_receiver.url)
    session = _session(stripe_sim)
    response = browser.post(f"/checkout/{session['id']}/pay",
                            data={"name": "Ann Lee", "email": "ann@example.com", "phone": "+15550002222"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"https://shop.example.com/thanks?cs={session['id']}"
    events = [verify_webhook(r["body"], r["headers"]["Stripe-Signature"]) for r in webhook_receiver.requests]
    completed = events[-1]["data"]["object"]
    assert events[-1]["type"] == "checkout.session.completed"
    assert completed["customer_details"]["name"] == "Ann Lee"
    assert completed["customer_details"]["email"] == "ann@example.com"
    assert "This payment is complete" in browser.get(f"/checkout/{session['id']}").text


def test_decline_button_returns_to_the_page_with_a_notice(stripe_sim, browser):
    session = _session(stripe_sim)
    response = browser.post(f"/checkout/{session['id']}/decline", data={})
    assert response.status_code == 303
    page = browser.get(response.headers["Location"])
    assert "Your card was declined" in page.text and "Pay $1,200.00" in page.text
    assert [e["type"] for e in stripe_sim.events()] == ["charge.failed", "payment_intent.payment_failed"]


def test_cancel_button_goes_back_without_events(stripe_sim, browser):
    session = _session(stripe_sim)
    response = browser.post(f"/checkout/{session['id']}/cancel", data={})
    assert (response.status_code, response.headers["Location"]) == (303, "https://shop.example.com/cart")
    assert stripe_sim.events() == []


def test_delayed_button_then_settle_buttons(stripe_sim, browser):
    session = _session(stripe_sim)
    response = browser.post(f"/checkout/{session['id']}/pay_delayed", data={})
    assert response.headers["Location"] == f"/checkout/{session['id']}"
    page = browser.get(f"/checkout/{session['id']}").text
    assert "Bank debit clears" in page and "Bank debit fails" in page
    # The way back while the debit processes names this session, like the redirect after paying.
    assert 'href="https://shop.example.com/thanks?cs=%s"' % session["id"] in page
    assert "{CHECKOUT_SESSION_ID}" not in page
    settled = browser.post(f"/checkout/{session['id']}/settle_succeeded", data={})
    assert settled.headers["Location"] == f"https://shop.example.com/thanks?cs={session['id']}"
    assert stripe_sim.events()[-1]["type"] == "checkout.session.async_payment_succeeded"


def test_expired_session_page_refuses_to_pay(stripe_sim, browser):
    session = _session(stripe_sim)
    stripe_sim.expire(session["id"])
    assert "expired" in browser.get(f"/checkout/{session['id']}").text
    response = browser.post(f"/checkout/{session['id']}/pay", data={})
    assert response.status_code == 400
    assert [e["type"] for e in stripe_sim.events()] == ["checkout.session.expired"]
    assert browser.get("/checkout/cs_test_unknown").status_code == 404


def test_payment_link_opens_a_session_and_is_used_once(stripe_sim, browser):
    form = {"line_items[0][quantity]": "1", "line_items[0][price_data][currency]": "usd",
            "line_items[0][price_data][unit_amount]": "7500",
            "line_items[0][price_data][product_data][name]": "Tradeline",
            "metadata[order_id]": "12", "payment_intent_data[metadata][order_id]": "12",
            "restrictions[completed_sessions][limit]": "1"}
    link = stripe_sim._http.post("/v1/payment_links", data=form,
                                 headers={"Authorization": f"Bearer {stripe_sim.secret_key}"}).json()
    opened = browser.get(f"/pay/{link['id']}")
    assert opened.status_code == 303
    session_id = opened.headers["Location"].rsplit("/", 1)[1]
    session = stripe_sim.session(session_id)
    assert (session["payment_link"], session["amount_total"], session["metadata"]) == (
        link["id"], 7500, {"order_id": "12"})
    paid = stripe_sim.pay(session_id)
    assert stripe_sim.payment_intent(paid["payment_intent"])["metadata"] == {"order_id": "12"}
    again = browser.get(f"/pay/{link['id']}")
    assert again.status_code == 400 and "no longer active" in again.text


def test_stripe_sim_command_serves_the_api(tmp_path):
    env = {**os.environ, "STRIPE_SECRET_KEY": "sk_test_command_check_0001", "STRIPE_WEBHOOK_SECRET": "whsec_cmd",
           "TRADELINE_VAR_DIR": str(tmp_path)}
    manage = [sys.executable, "-m", "tradeline", "stripe_sim", "--port", "0", "--expire-every", "0"]
    proc = subprocess.Popen(manage, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=Path(__file__).resolve().parents[3])
    try:
        first_line = proc.stdout.readline()
        assert first_line.startswith("Local Stripe server on http://127.0.0.1:"), first_line
        url = first_line.split()[4]
        response = httpx.get(f"{url}/v1/charges/ch_x", headers={"Authorization": "Bearer sk_test_command_check_0001"})
        assert response.status_code == 404 and response.json()["error"]["code"] == "resource_missing"
        assert httpx.get(f"{url}/_sim/health").json()["webhook_url"] is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        output = proc.stdout.read()
        proc.stdout.close()
    assert "sk_test_command_check_0001" not in first_line + output


@pytest.mark.parametrize(("key", "secret"), [("", "whsec_x"), ("sk_live_abcdefabcdef", "whsec_x"),
                                              ("sk_test_abcdefabcdef", "")])
def test_stripe_sim_command_needs_test_keys(settings, key, secret):
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = key, secret
    with pytest.raises(CommandError) as info:
        call_command("stripe_sim", "--port", "0")
    assert "STRIPE_SECRET_KEY" in str(info.value) or "STRIPE_WEBHOOK_SECRET" in str(info.value)
