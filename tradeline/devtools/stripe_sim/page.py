"""The hosted checkout page of the local Stripe server (what the customer sees at session.url)."""

import re
from html import escape


def _money(cents: int, currency: str) -> str:
    symbol = "$" if currency == "usd" else ""
    text = f"{symbol}{cents // 100:,}.{cents % 100:02d}"
    return text if symbol else f"{text} {currency.upper()}"


_STYLE = """
body{font-family:system-ui,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}
main{max-width:560px;margin:40px auto;background:#fff;border-radius:8px;padding:28px;box-shadow:0 2px 8px #0002}
h1{font-size:20px;margin:0 0 4px} .muted{color:#697386;font-size:13px}
table{width:100%;border-collapse:collapse;margin:18px 0} td{padding:8px 0;border-bottom:1px solid #e3e8ee;vertical-align:top}
td.amt{text-align:right;white-space:nowrap} tr.total td{font-weight:700;border-bottom:none}
label{display:block;font-size:13px;margin-top:10px} input{width:100%;padding:8px;box-sizing:border-box}
.terms input{width:auto;padding:0;margin:0 6px 0 0;vertical-align:-2px}
.buttons{display:grid;gap:8px;margin-top:18px} button{padding:11px;border:0;border-radius:6px;font-size:15px;cursor:pointer}
.pay{background:#635bff;color:#fff} .alt{background:#e3e8ee} .danger{background:#fde8e8;color:#a4161a}
.notice{padding:10px;border-radius:6px;background:#fff4e5;margin:12px 0} .ok{background:#e6f7ed}
"""


def _terms_box(session: dict) -> str:
    """Stripe's terms-of-service checkbox (consent_collection[terms_of_service]=required), its text
    the session's custom_text with markdown links made into links; the browser will not submit unticked."""
    if (session.get("consent_collection") or {}).get("terms_of_service") != "required":
        return ""
    message = ((session.get("custom_text") or {}).get("terms_of_service_acceptance") or {}).get("message")
    text = escape(message or "I agree to the terms of service.")
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r'<a href="\2" target=_blank>\1</a>', text)
    return f"\n  <label class=terms><input type=checkbox name=terms_of_service required> {text}</label>"


def render_checkout(session: dict, items: list[dict], *, message: str | None = None) -> str:
    sid = escape(session["id"])
    currency = session["currency"]
    rows = "".join(
        f"<tr><td><strong>{escape(item['description'])}</strong>"
        f"<div class=muted>{escape(item['price']['product'].get('description') or '')}</div>"
        f"<div class=muted>Qty {item['quantity']} × {_money(item['price']['unit_amount'], currency)}</div></td>"
        f"<td class=amt>{_money(item['amount_total'], currency)}</td></tr>"
        for item in items
    )
    rows += f"<tr class=total><td>Total due</td><td class=amt>{_money(session['amount_total'], currency)}</td></tr>"
    email = escape(session.get("customer_email") or "")
    notice = f"<div class=notice>{escape(message)}</div>" if message else ""
    status, payment_status = session["status"], session["payment_status"]
    if status == "open":
        body = f"""
<form method=post>{_terms_box(session)}
  <label>Email <input name=email value="{email}" placeholder="you@example.com"></label>
  <label>Name on card <input name=name value="" placeholder="Test Customer" autocomplete="cc-name"></label>
  <label>Phone <input name=phone value="+15555550123"></label>
  <div class=buttons>
    <button class=pay formaction="/checkout/{sid}/pay">Pay {_money(session['amount_total'], currency)}</button>
    <button class=alt formaction="/checkout/{sid}/pay_delayed">Pay with delayed method (bank debit)</button>
    <button class=danger formaction="/checkout/{sid}/decline">Decline (card is declined)</button>
    <button class=alt formnovalidate formaction="/checkout/{sid}/cancel">Cancel and return to the shop</button>
  </div>
</form>"""
    elif status == "complete" and payment_status == "unpaid":
        back = escape((session.get("success_url") or "").replace("{CHECKOUT_SESSION_ID}", session["id"]))
        body = f"""
<div class=notice>The bank debit is processing. In this local server you decide how it ends:</div>
<form method=post><div class=buttons>
  <button class=pay formaction="/checkout/{sid}/settle_succeeded">Bank debit clears (async payment succeeded)</button>
  <button class=danger formaction="/checkout/{sid}/settle_failed">Bank debit fails (async payment failed)</button>
</div></form>
{f'<p><a href="{back}">Return to the shop</a></p>' if back else ''}"""
    elif status == "complete":
        body = "<div class='notice ok'>This payment is complete. Thank you!</div>"
    else:
        body = "<div class=notice>This checkout session has expired.</div>"
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width,initial-scale=1">
<title>Checkout (local Stripe)</title><style>{_STYLE}</style></head>
<body><main>
<h1>Checkout</h1><div class=muted>Local Stripe-compatible server · test mode · {sid}</div>
{notice}<table>{rows}</table>{body}
</main></body></html>"""


def render_message(title: str, text: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><main><h1>{escape(title)}</h1><p>{escape(text)}</p>"
            f"</main></body></html>")
