/*
 * Tradeline Marketplace widget. One tag on any page:
 *
 *   <script src="https://shop.example/widget.js" data-key="tlm_pk_..."></script>
 *
 * Optional attributes: data-target (CSS selector of the element to render into; default: right
 * after the script tag), data-success-url / data-cancel-url (where Stripe Checkout returns),
 * data-api (API origin; default: the origin this script was loaded from), data-title.
 *
 * Everything renders inside a shadow root: the host page's CSS cannot reach in and ours cannot
 * leak out. Money arrives from the API as integer cents and is only formatted here.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    var candidates = document.querySelectorAll("script[data-key]");
    script = candidates[candidates.length - 1];
  }
  if (!script) { return; }
  if (script.getAttribute("data-tlm-mounted")) { return; }
  script.setAttribute("data-tlm-mounted", "1");

  var KEY = (script.getAttribute("data-key") || "").trim();
  var API = (script.getAttribute("data-api") || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var TITLE = script.getAttribute("data-title") || "Seasoned tradelines";
  var SUCCESS_URL = script.getAttribute("data-success-url") || "";
  var CANCEL_URL = script.getAttribute("data-cancel-url") || "";
  var MAX_QTY = 10;
  var MAX_LINES = 20;

  var CSS = [
    ":host{all:initial;display:block;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;",
    "color:#1f2937;font-size:15px;line-height:1.45;--tlm-accent:#2563eb;--tlm-accent-dark:#1d4ed8}",
    "*{box-sizing:border-box}",
    ".tlm{display:grid;grid-template-columns:minmax(0,1fr) 320px;gap:20px;align-items:start}",
    "@media (max-width:820px){.tlm{grid-template-columns:1fr}}",
    "h2{font-size:20px;margin:0 0 4px;font-weight:650}",
    "h3{font-size:16px;margin:0 0 12px;font-weight:650}",
    ".sub{color:#6b7280;font-size:13px;margin:0 0 14px}",
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:14px}",
    ".card{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:16px;display:flex;flex-direction:column;gap:10px;",
    "box-shadow:0 1px 2px rgba(0,0,0,.04)}",
    ".bank{font-weight:650;font-size:16px}",
    "dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0;font-size:13px}",
    "dt{color:#6b7280}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}",
    ".price{font-size:20px;font-weight:700;font-variant-numeric:tabular-nums;white-space:nowrap}",
    ".row{display:flex;align-items:center;justify-content:space-between;gap:8px;flex-wrap:wrap;margin-top:auto}",
    "button{font:inherit;cursor:pointer;border-radius:8px;border:1px solid transparent;padding:8px 12px;font-weight:600;white-space:nowrap;font-size:14px}",
    "button.primary{background:var(--tlm-accent);color:#fff}",
    "button.primary:hover{background:var(--tlm-accent-dark)}",
    "button.primary:disabled{background:#93c5fd;cursor:not-allowed}",
    "button.link{background:none;color:#b91c1c;padding:2px 4px;font-weight:500;font-size:13px}",
    ".stock{font-size:12px;color:#6b7280}",
    ".cart{background:#f9fafb;border:1px solid #e5e7eb;border-radius:12px;padding:16px;position:sticky;top:12px}",
    ".line{display:grid;grid-template-columns:1fr auto;gap:4px 8px;padding:10px 0;border-bottom:1px solid #e5e7eb;font-size:14px}",
    ".line .name{font-weight:600}",
    ".line .controls{display:flex;align-items:center;gap:6px;color:#6b7280;font-size:13px}",
    ".line .amount{text-align:right;font-variant-numeric:tabular-nums}",
    "select,input{font:inherit;border:1px solid #d1d5db;border-radius:8px;padding:7px 9px;background:#fff;color:#111827}",
    "select{padding:3px 6px}",
    "label{display:block;font-size:13px;color:#374151;margin:10px 0 4px}",
    "input{width:100%}",
    "input:focus,select:focus{outline:2px solid #bfdbfe;border-color:var(--tlm-accent)}",
    ".total{display:flex;justify-content:space-between;font-weight:700;font-size:16px;margin:12px 0 2px}",
    ".note{font-size:12px;color:#6b7280;margin:0 0 10px}",
    ".empty{color:#6b7280;font-size:14px;padding:8px 0}",
    ".error{background:#fef2f2;color:#991b1b;border:1px solid #fecaca;border-radius:8px;padding:10px 12px;font-size:14px;margin:10px 0}",
    ".error ul{margin:6px 0 0;padding-left:18px}",
    ".notice{background:#fffbeb;color:#92400e;border:1px solid #fde68a;border-radius:8px;padding:8px 12px;font-size:13px;margin:0 0 12px}",
    ".loading{color:#6b7280;padding:24px 0}",
    ".buy{width:100%;margin-top:12px;padding:11px 14px}",
    ".secure{font-size:12px;color:#6b7280;text-align:center;margin-top:8px}",
    ".agreement{display:block;font-size:13px;margin:10px 0;color:#374151}.agreement a{color:#2563eb}"
  ].join("");

  // ---------- helpers ----------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) { return; }
        if (name === "text") { node.textContent = value; }
        else if (name.slice(0, 2) === "on") { node.addEventListener(name.slice(2), value); }
        else { node.setAttribute(name, value === true ? "" : value); }
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // Integer cents -> "$1,234.56" (string arithmetic on integers: no floating point).
  function usd(cents) {
    var n = Math.round(Number(cents)) || 0;
    var sign = n < 0 ? "-" : "";
    n = Math.abs(n);
    var whole = String(Math.floor(n / 100));
    var frac = String(n % 100);
    if (frac.length < 2) { frac = "0" + frac; }
    return sign + "$" + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + frac;
  }

  function usdWhole(cents) {
    return usd(cents).replace(/\.00$/, "");
  }

  var MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

  // "2015-03", "2015-03-14", "03/2015", "March 2015", "2015" -> "10 yrs 8 mos"; anything else is shown as given.
  function age(opened) {
    if (!opened) { return "—"; }
    var text = String(opened).trim();
    var m = text.match(/^(\d{4})(?:[-/.](\d{1,2}))?(?:[-/.](\d{1,2}))?/);
    var named = text.match(/^([A-Za-z]{3,9})\.?,?\s+(?:\d{1,2},?\s+)?(\d{4})$/);
    var year, month;
    if (m) { year = +m[1]; month = m[2] ? +m[2] : 1; }
    else if (named && MONTHS.indexOf(named[1].slice(0, 3).toLowerCase()) >= 0) {
      year = +named[2]; month = MONTHS.indexOf(named[1].slice(0, 3).toLowerCase()) + 1;
    }
    else {
      m = text.match(/^(\d{1,2})[-/.](\d{4})$/) || text.match(/^(\d{1,2})[-/.]\d{1,2}[-/.](\d{4})$/);
      if (!m) { return text; }
      year = +m[2]; month = +m[1];
    }
    if (month < 1 || month > 12) { return text; }
    var now = new Date();
    var months = (now.getUTCFullYear() - year) * 12 + (now.getUTCMonth() + 1 - month);
    if (months < 0) { return text; }
    var y = Math.floor(months / 12), mo = months % 12;
    var parts = [];
    if (y) { parts.push(y + (y === 1 ? " yr" : " yrs")); }
    if (mo || !y) { parts.push(mo + (mo === 1 ? " mo" : " mos")); }
    return parts.join(" ");
  }

  function api(method, path, body) {
    var headers = { "x-api-key": KEY, "Accept": "application/json" };
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(API + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      credentials: "omit", mode: "cors"
    }).then(function (response) {
      if (response.status === 204) { return { ok: true, status: 204, data: null }; }
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { ok: response.ok, status: response.status, data: data };
      });
    }, function (error) {
      if (window.console) {
        console.warn("Tradeline widget: " + method + " " + API + path + " failed (" + error + "). " +
          "If this site's address is not among the broker's allowed origins, the browser blocks the call.");
      }
      return { ok: false, status: 0, data: { error: "Could not reach the shop. Check your connection and try again." } };
    });
  }

  function errorBox(result, fallback) {
    var data = result && result.data;
    var message = (data && data.error) || fallback;
    if (result && result.status === 429) { message = (data && data.error) || "Too many requests; wait a moment and try again."; }
    var items = [];
    var details = data && data.details;
    if (Array.isArray(details)) {
      details.forEach(function (d) {
        if (d && d.field && d.message) { items.push(d.field.replace(/^items\.\d+\./, "") + ": " + d.message); }
        else if (d && d.card_id && d.available !== undefined) { items.push(d.card_id + ": only " + d.available + " available"); }
      });
    }
    return el("div", { "class": "error", role: "alert" }, [
      message, items.length ? el("ul", null, items.map(function (t) { return el("li", { text: t }); })) : null
    ]);
  }

  // ---------- mount ----------
  var host;
  var targetSelector = script.getAttribute("data-target");
  if (targetSelector) { host = document.querySelector(targetSelector); }
  if (!host) {
    host = document.createElement("div");
    script.parentNode.insertBefore(host, script.nextSibling);
  }
  host.setAttribute("data-tradeline-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("style", { text: CSS }));
  var app = el("div", { "class": "tlm-root" });
  root.appendChild(app);

  var state = { catalog: [], byId: {}, cart: [], email: "", name: "", busy: false, error: null, stale: false,
    agreement: null, agreed: false };

  if (!KEY) {
    app.appendChild(el("div", { "class": "error", text: "Widget misconfigured: the script tag needs data-key=\"tlm_pk_...\"." }));
    return;
  }

  app.appendChild(el("div", { "class": "loading", text: "Loading tradelines…" }));

  api("POST", "/api/analytics/widget-load");
  api("GET", "/api/public/pricing").then(function (result) {
    if (!result.ok || !result.data || !Array.isArray(result.data.tradelines)) {
      app.textContent = "";
      app.appendChild(errorBox(result, "The catalog is not available right now. Please try again later."));
      return;
    }
    state.catalog = result.data.tradelines;
    state.stale = !!result.data.stale;
    state.catalog.forEach(function (t) { state.byId[t.card_id] = t; });
    render();
  });
  // The Tradeline User Agreement the customer must accept (its version goes with the checkout).
  api("GET", "/api/public/agreement").then(function (result) {
    if (result.ok && result.data && result.data.version) { state.agreement = result.data; render(); }
  });

  // ---------- cart ----------
  function cartLine(cardId) {
    for (var i = 0; i < state.cart.length; i++) { if (state.cart[i].card_id === cardId) { return state.cart[i]; } }
    return null;
  }

  function maxFor(cardId) {
    var t = state.byId[cardId];
    return Math.max(1, Math.min(MAX_QTY, t ? t.stock : MAX_QTY));
  }

  function add(cardId) {
    var line = cartLine(cardId);
    state.error = null;
    if (line) { line.quantity = Math.min(line.quantity + 1, maxFor(cardId)); }
    else if (state.cart.length >= MAX_LINES) { state.error = { data: { error: "A cart holds at most " + MAX_LINES + " different tradelines." } }; }
    else { state.cart.push({ card_id: cardId, quantity: 1 }); }
    render();
  }

  function setQuantity(cardId, quantity) {
    var line = cartLine(cardId);
    if (line) { line.quantity = Math.max(1, Math.min(quantity, maxFor(cardId))); }
    render();
  }

  function remove(cardId) {
    state.cart = state.cart.filter(function (l) { return l.card_id !== cardId; });
    state.error = null;
    render();
  }

  function cartTotal() {
    return state.cart.reduce(function (sum, l) {
      var t = state.byId[l.card_id];
      return sum + (t ? t.customer_price * l.quantity : 0);
    }, 0);
  }

  function buy(event) {
    event.preventDefault();
    if (state.busy) { return; }
    state.error = null;
    if (!state.cart.length) { state.error = { data: { error: "Add at least one tradeline to the cart." } }; render(); return; }
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(state.email.trim())) {
      state.error = { data: { error: "Enter a valid email address: the order confirmation goes there." } }; render(); return;
    }
    if (!state.agreed || !state.agreement) {
      state.error = { data: { error: "Please read and accept the Tradeline User Agreement." } }; render(); return;
    }
    var here = location.href.split("#")[0];
    var body = {
      customer_email: state.email.trim(),
      customer_name: state.name.trim(),
      items: state.cart.map(function (l) { return { card_id: l.card_id, quantity: l.quantity }; }),
      agreement_version: state.agreement.version,
      agreement_accepted: state.agreed === true
    };
    if (SUCCESS_URL) { body.success_url = new URL(SUCCESS_URL, here).href; }
    if (CANCEL_URL || here.indexOf("http") === 0) { body.cancel_url = new URL(CANCEL_URL || here, here).href; }
    state.busy = true;
    render();
    api("POST", "/api/orders/checkout", body).then(function (result) {
      if (result.ok && result.data && result.data.checkout_url) {
        window.location.assign(result.data.checkout_url);
        return;
      }
      state.busy = false;
      state.error = result.ok ? { data: { error: "Checkout could not be started. Please try again." } } : result;
      render();
    });
  }

  // ---------- render ----------
  function renderCard(t) {
    var inCart = cartLine(t.card_id);
    var soldOut = !(t.stock > 0);
    return el("article", { "class": "card", "data-card-id": t.card_id }, [
      el("div", { "class": "bank", text: t.bank_name }),
      el("dl", null, [
        el("dt", { text: "Credit limit" }), el("dd", { text: usdWhole(t.credit_limit) }),
        el("dt", { text: "Age" }), el("dd", { text: age(t.date_opened), title: "Opened " + (t.date_opened || "?") }),
        el("dt", { text: "Reports" }), el("dd", { text: t.reporting_period || "—" }),
        t.purchase_deadline ? el("dt", { text: "Buy by" }) : null,
        t.purchase_deadline ? el("dd", { text: t.purchase_deadline }) : null
      ]),
      el("div", { "class": "row" }, [
        el("span", { "class": "price", text: usd(t.customer_price) }),
        el("button", {
          "class": "primary add", type: "button", disabled: soldOut || (inCart && inCart.quantity >= maxFor(t.card_id)),
          onclick: function () { add(t.card_id); }, text: soldOut ? "Sold out" : (inCart ? "In cart (" + inCart.quantity + ") +1" : "Add to cart")
        })
      ]),
      el("div", { "class": "stock", text: soldOut ? "Out of stock" : t.stock + " spot" + (t.stock === 1 ? "" : "s") + " left" })
    ]);
  }

  function renderCart() {
    var lines = state.cart.map(function (l) {
      var t = state.byId[l.card_id];
      var options = [];
      for (var q = 1; q <= maxFor(l.card_id); q++) {
        options.push(el("option", { value: String(q), selected: q === l.quantity, text: String(q) }));
      }
      return el("div", { "class": "line", "data-card-id": l.card_id }, [
        el("div", { "class": "name", text: t ? t.bank_name : l.card_id }),
        el("div", { "class": "amount", text: usd(t ? t.customer_price * l.quantity : 0) }),
        el("div", { "class": "controls" }, [
          "Qty",
          el("select", { "aria-label": "Quantity", "class": "qty",
            onchange: function (e) { setQuantity(l.card_id, parseInt(e.target.value, 10)); } }, options),
          el("span", { text: "× " + usd(t ? t.customer_price : 0) })
        ]),
        el("button", { type: "button", "class": "link remove", onclick: function () { remove(l.card_id); }, text: "Remove" })
      ]);
    });
    var emailInput = el("input", { type: "email", name: "email", autocomplete: "email", required: true,
      placeholder: "you@example.com", value: state.email, oninput: function (e) { state.email = e.target.value; } });
    var nameInput = el("input", { type: "text", name: "name", autocomplete: "name", placeholder: "Full name (optional)",
      value: state.name, oninput: function (e) { state.name = e.target.value; } });
    return el("form", { "class": "cart", novalidate: true, onsubmit: buy }, [
      el("h3", { text: "Your cart" }),
      lines.length ? el("div", null, lines) : el("div", { "class": "empty", text: "Your cart is empty." }),
      el("div", { "class": "total" }, [el("span", { text: "Total" }), el("span", { "class": "total-amount", text: usd(cartTotal()) })]),
      el("p", { "class": "note", text: "Final price confirmed at checkout." }),
      el("label", { text: "Email" }), emailInput,
      el("label", { text: "Name" }), nameInput,
      agreementField(),
      state.error ? errorBox(state.error, "Something went wrong. Please try again.") : null,
      el("button", { "class": "primary buy", type: "submit", disabled: state.busy || !state.cart.length,
        text: state.busy ? "Redirecting to payment…" : "Buy now" }),
      el("div", { "class": "secure", text: "Secure payment by Stripe" })
    ]);
  }

  // A checkbox, never pre-ticked, and a link to the agreement's page (opens in a new tab).
  function agreementField() {
    if (!state.agreement) { return null; }
    var box = el("input", { type: "checkbox", name: "agreement", onchange: function (e) { state.agreed = !!e.target.checked; } });
    box.checked = state.agreed;
    return el("label", { "class": "agreement" }, [box, el("span", { text: " I have read and accept the " }),
      el("a", { href: state.agreement.url, target: "_blank", rel: "noopener", text: state.agreement.title }),
      el("span", { text: " (version " + state.agreement.version + ")." })]);
  }

  function render() {
    var focused = root.activeElement && root.activeElement.name;
    app.textContent = "";
    var listing = el("section", null, [
      el("h2", { text: TITLE }),
      el("p", { "class": "sub", text: state.catalog.length + " tradeline" + (state.catalog.length === 1 ? "" : "s") + " available" }),
      state.stale ? el("div", { "class": "notice", text: "Availability is being refreshed; stock may have changed." }) : null,
      state.catalog.length
        ? el("div", { "class": "grid" }, state.catalog.map(renderCard))
        : el("div", { "class": "empty", text: "No tradelines are available right now." })
    ]);
    app.appendChild(el("div", { "class": "tlm" }, [listing, renderCart()]));
    if (focused) {
      var again = root.querySelector("[name='" + focused + "']");
      if (again) { again.focus(); }
    }
  }
})();
