/*
 * Tradeline Marketplace widget: a broker's shop in one tag.
 *
 *   <script src="https://shop.example/widget.js" data-key="tlm_pk_..."></script>
 *
 * Optional attributes: data-target (CSS selector to render into; default: right after the tag),
 * data-api (API origin; default: where this script came from), data-title, data-primary-color,
 * data-text-color, data-background-color (#rrggbb), data-font (system|serif|rounded|mono),
 * data-radius (px), data-columns (0-4), data-sort (price|-price|-limit|-age|posting),
 * data-success-url, data-cancel-url, data-manual (mount only through TradelineWidget.init).
 *
 * Or from the page: TradelineWidget.init({key, target, title, colors: {primary, text, background},
 * font, radius, columns, sort, successUrl, cancelUrl, onCheckout, onCartChange}). Options given
 * here win over data-* attributes, which win over the theme the broker set in the portal
 * (GET /api/public/config). init() on the element an instance already uses updates it.
 *
 * Everything renders inside a shadow root. Money arrives as integer cents and is only formatted
 * here. The cart is kept per broker in sessionStorage (survives a reload and a cancelled payment).
 */
(function () {
  "use strict";

  var T0 = window.performance ? performance.now() : 0;
  var NS = window.TradelineWidget = window.TradelineWidget || {};
  if (NS.init) { return; }  // loaded twice: the first copy serves
  var script = document.currentScript;
  if (!script) {
    var tagged = document.querySelectorAll("script[data-key]");
    script = tagged[tagged.length - 1] || null;
  }
  var SCRIPT_ORIGIN = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var PAGE = 24;
  var MAX_QTY = 10;
  var MAX_LINES = 20;
  var LOW_STOCK = 3;
  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  var NARROW = 720;
  var instances = [];
  NS.version = "2";
  NS.timings = {};
  NS.instances = instances;

  var FONTS = {
    system: "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif",
    serif: "Georgia,'Times New Roman',serif",
    rounded: "ui-rounded,'SF Pro Rounded','Nunito','Segoe UI',sans-serif",
    mono: "ui-monospace,SFMono-Regular,Menlo,Consolas,monospace"
  };
  var SORTS = [["price", "Price: low to high"], ["-price", "Price: high to low"], ["-limit", "Credit limit: high to low"],
    ["limit", "Credit limit: low to high"], ["-age", "Age: oldest first"], ["age", "Age: newest first"],
    ["posting", "Posting date: soonest first"]];
  var LIMITS = [1000, 2500, 5000, 10000, 15000, 20000, 30000, 50000];
  var AGES = [2, 5, 10, 15, 20];
  var DEFAULTS = { title: "Seasoned tradelines", colors: { primary: "#2563eb", text: "#1f2937", background: "#ffffff" },
    font: "system", radius: 12, columns: 0, sort: "price" };
  var EMPTY_FILTERS = { q: "", bank: "", ex: [], lmin: 0, lmax: 0, amin: 0, amax: 0, pmin: 0, pmax: 0, d1: 0, d2: 0,
    stock: false, sort: "", p: 1 };

  var CSS = [
    ":host{all:initial;display:block;font-family:var(--tlm-font);color:var(--tlm-text);background:var(--tlm-bg);",
    "font-size:15px;line-height:1.45;border-radius:var(--tlm-r)}",
    "*{box-sizing:border-box}",
    ".tlm{padding:4px;color:var(--tlm-text)}",
    ".cols{display:grid;grid-template-columns:minmax(0,1fr) 320px;gap:20px;align-items:start}",
    ".narrow .cols{grid-template-columns:minmax(0,1fr)}",
    "h2{font-size:20px;margin:0 0 2px;font-weight:650}",
    "h3{font-size:16px;margin:0;font-weight:650}",
    ".muted,.sub{color:var(--tlm-muted);font-size:13px}",
    ".sub{margin:0 0 12px}",
    ".filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin-bottom:10px}",
    ".filters .search{flex:1 1 200px}",
    ".filters label,.panel label{display:block;font-size:12px;color:var(--tlm-muted);margin:0 0 2px}",
    "details{border:1px solid var(--tlm-line);border-radius:var(--tlm-r-s);padding:6px 10px;background:var(--tlm-card)}",
    "details[open]{flex-basis:100%}",
    "summary{cursor:pointer;font-size:14px;font-weight:600}",
    ".panel{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px 12px;padding:8px 0 4px}",
    ".banks{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:4px 12px;padding:8px 0 4px}",
    ".banks label{display:flex;gap:6px;align-items:center;font-size:14px;color:var(--tlm-text)}",
    ".check{display:flex;gap:6px;align-items:center;font-size:14px}",
    "input,select{font:inherit;color:#111827;background:#fff;border:1px solid #8b93a1;border-radius:var(--tlm-r-s);padding:7px 9px;min-height:36px;max-width:100%}",
    "input[type=checkbox]{min-height:0;width:16px;height:16px;accent-color:var(--tlm-primary)}",
    ".search input,.cart input{width:100%}",
    "select.qty{padding:3px 6px;min-height:30px}",
    "button{font:inherit;cursor:pointer;border-radius:var(--tlm-r-s);border:1px solid transparent;padding:8px 12px;font-weight:600;",
    "white-space:nowrap;font-size:14px;min-height:36px}",
    "button.primary{background:var(--tlm-primary);color:var(--tlm-on-primary)}",
    "button.primary:hover{background:var(--tlm-primary-dark)}",
    "button:disabled{background:#e5e7eb;color:#4b5563;cursor:not-allowed}",
    "button.ghost{background:transparent;border-color:var(--tlm-line);color:var(--tlm-text)}",
    "button.link{background:none;color:#b91c1c;padding:2px 4px;font-weight:500;font-size:13px;min-height:0}",
    ":focus-visible{outline:3px solid var(--tlm-focus);outline-offset:2px}",
    "input:focus-visible,select:focus-visible{outline-offset:0}",
    ".count{font-size:13px;color:var(--tlm-muted);margin:6px 0 10px}",
    ".grid{display:grid;grid-template-columns:var(--tlm-cols);gap:14px;list-style:none;margin:0;padding:0}",
    ".card{background:var(--tlm-card);border:1px solid var(--tlm-line);border-radius:var(--tlm-r);padding:14px;",
    "display:flex;flex-direction:column;gap:8px;box-shadow:0 1px 2px rgba(0,0,0,.04)}",
    ".card.sold-out{opacity:.8}",
    ".head{display:flex;gap:10px;align-items:center}",
    ".logo{position:absolute;inset:0;width:36px;height:36px;border-radius:8px;object-fit:contain;background:#fff;opacity:0}",
    ".logo.shown{opacity:1}",
    ".mono{position:relative;width:36px;height:36px;border-radius:8px;flex:none;display:grid;place-items:center;font-weight:700;",
    "background:var(--tlm-soft);color:var(--tlm-text)}",
    "dl{display:grid;grid-template-columns:auto 1fr;gap:3px 12px;margin:0;font-size:13px}",
    "dt{color:var(--tlm-muted)}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}",
    ".price{font-size:19px;font-weight:700;font-variant-numeric:tabular-nums;white-space:nowrap}",
    ".row{display:flex;align-items:center;justify-content:space-between;gap:8px;flex-wrap:wrap;margin-top:auto}",
    ".badge{font-size:12px;font-weight:600;border-radius:999px;padding:1px 8px;align-self:flex-start}",
    ".badge.ok{background:#ecfdf5;color:#065f46}.badge.low{background:#fffbeb;color:#92400e}.badge.out{background:#f3f4f6;color:#374151}",
    ".pager{display:flex;gap:8px;align-items:center;justify-content:center;margin:16px 0 4px;flex-wrap:wrap}",
    ".cart{background:var(--tlm-card);border:1px solid var(--tlm-line);border-radius:var(--tlm-r);padding:16px;position:sticky;top:12px}",
    ".sheet .cart{position:static;border:0;padding:0}",
    ".line{display:grid;grid-template-columns:1fr auto;gap:4px 8px;padding:10px 0;border-bottom:1px solid var(--tlm-line);font-size:14px}",
    ".line .name{font-weight:600}",
    ".line .controls{display:flex;align-items:center;gap:6px;color:var(--tlm-muted);font-size:13px}",
    ".line .amount{text-align:right;font-variant-numeric:tabular-nums}",
    ".line .msg{grid-column:1/-1;color:#92400e;font-size:13px}",
    ".cart label{display:block;font-size:13px;margin:10px 0 4px}",
    ".total{display:flex;justify-content:space-between;font-weight:700;font-size:16px;margin:12px 0 2px}",
    ".note{font-size:12px;color:var(--tlm-muted);margin:0 0 6px}",
    ".empty{color:var(--tlm-muted);font-size:14px;padding:8px 0}",
    ".error{background:#fef2f2;color:#991b1b;border:1px solid #fecaca;border-radius:8px;padding:8px 10px;font-size:13px;margin:6px 0}",
    ".error ul{margin:4px 0 0;padding-left:18px}",
    "[aria-invalid=true]{border-color:#b91c1c}",
    ".notice{background:#fffbeb;color:#92400e;border:1px solid #fde68a;border-radius:8px;padding:8px 12px;font-size:13px;margin:0 0 10px}",
    ".notice ul{margin:0;padding-left:18px}",
    ".loading{color:var(--tlm-muted);padding:24px 0}",
    ".buy{width:100%;margin-top:12px;padding:11px 14px}",
    ".secure{font-size:12px;color:var(--tlm-muted);text-align:center;margin-top:8px}",
    ".bar{display:none}",
    ".narrow .bar{display:flex;position:fixed;left:0;right:0;bottom:0;z-index:2147483000;gap:10px;align-items:center;",
    "justify-content:space-between;padding:10px 14px;background:var(--tlm-bg);border-top:1px solid var(--tlm-line);",
    "box-shadow:0 -4px 16px rgba(0,0,0,.08)}",
    ".narrow .cols{padding-bottom:72px}",
    ".preview .bar{position:sticky}.preview .cols{padding-bottom:0}",
    ".bar .sum{font-size:14px}.bar strong{font-variant-numeric:tabular-nums}",
    ".narrow aside.side{display:none}",
    ".backdrop{position:fixed;inset:0;background:rgba(17,24,39,.45);z-index:2147483001;display:flex;align-items:flex-end}",
    ".backdrop[hidden]{display:none}",
    ".sheet{background:var(--tlm-bg);color:var(--tlm-text);width:100%;max-height:88vh;overflow:auto;",
    "border-radius:var(--tlm-r) var(--tlm-r) 0 0;padding:14px 16px 20px}",
    ".sheet-head{display:flex;justify-content:space-between;align-items:center;margin-bottom:6px}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
  ].join("");

  // ---------- small helpers ----------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) { continue; }
        if (name === "text") { node.textContent = value; }
        else if (name.slice(0, 2) === "on") { node.addEventListener(name.slice(2), value); }
        else if (name === "value" || name === "checked") { node[name] = value; }
        else { node.setAttribute(name, value === true ? "" : value); }
      }
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // Integer cents -> "$1,234.56" with integer arithmetic only.
  function usd(cents) {
    var n = Math.round(Number(cents)) || 0;
    var sign = n < 0 ? "-" : "";
    n = Math.abs(n);
    var frac = String(n % 100);
    return sign + "$" + String(Math.floor(n / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + (frac.length < 2 ? "0" + frac : frac);
  }
  function usdWhole(cents) { return usd(cents).replace(/\.00$/, ""); }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  var MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
  // Supplier dates come as "2015-03", "2015-03-14", "03/2015", "March 2015", "Dec 5, 2026": -> [y, m, d|0] or null.
  function parseDate(text) {
    text = String(text || "").trim();
    var m = text.match(/^(\d{4})(?:[-/.](\d{1,2}))?(?:[-/.](\d{1,2}))?/);
    if (m) { return valid(+m[1], m[2] ? +m[2] : 1, m[3] ? +m[3] : 0); }
    m = text.match(/^([A-Za-z]{3,9})\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})$/);
    if (m && MONTHS.indexOf(m[1].slice(0, 3).toLowerCase()) >= 0) {
      return valid(+m[3], MONTHS.indexOf(m[1].slice(0, 3).toLowerCase()) + 1, m[2] ? +m[2] : 0);
    }
    m = text.match(/^(\d{1,2})[-/.](\d{4})$/);
    if (m) { return valid(+m[2], +m[1], 0); }
    m = text.match(/^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/);
    return m ? valid(+m[3], +m[1], +m[2]) : null;
  }
  function valid(y, mo, d) { return mo >= 1 && mo <= 12 && d >= 0 && d <= 31 ? [y, mo, d] : null; }

  var LOCALE = (navigator.languages && navigator.languages[0]) || navigator.language || "en-US";
  var DAY_FORMAT = safeFormat({ year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
  var MONTH_FORMAT = safeFormat({ year: "numeric", month: "short", timeZone: "UTC" });
  function safeFormat(options) {
    try { return new Intl.DateTimeFormat(LOCALE, options); } catch (e) { return new Intl.DateTimeFormat("en-US", options); }
  }
  // The one date format of the widget (the visitor's locale); month-only dates without the day.
  function showDate(parts, raw) {
    if (!parts) { return raw || "—"; }
    var date = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2] || 1));
    return (parts[2] ? DAY_FORMAT : MONTH_FORMAT).format(date);
  }
  function ageText(months) {
    if (months === null) { return "—"; }
    var y = Math.floor(months / 12), mo = months % 12, out = [];
    if (y) { out.push(y + (y === 1 ? " yr" : " yrs")); }
    if (mo || !y) { out.push(mo + (mo === 1 ? " mo" : " mos")); }
    return out.join(" ");
  }
  function safeUrl(url) { return /^https?:\/\//i.test(String(url || "")) ? String(url) : ""; }
  function hex(value) { return /^#[0-9a-f]{6}$/i.test(String(value || "")) ? String(value).toLowerCase() : ""; }
  function luminance(color) {
    var c = [1, 3, 5].map(function (i) {
      var v = parseInt(color.substr(i, 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    var x = luminance(a), y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function shade(color, factor) {
    return "#" + [1, 3, 5].map(function (i) {
      var v = Math.max(0, Math.min(255, Math.round(parseInt(color.substr(i, 2), 16) * factor)));
      return (v < 16 ? "0" : "") + v.toString(16);
    }).join("");
  }
  function intIn(value, low, high) {
    var n = parseInt(value, 10);
    return isNaN(n) ? null : Math.max(low, Math.min(high, n));
  }

  // Options from data-* attributes, in the shape init() takes.
  function attributeOptions(tag) {
    function a(name) { var v = tag.getAttribute("data-" + name); return v === null ? undefined : v; }
    return { key: a("key"), api: a("api"), target: a("target"), title: a("title"),
      colors: { primary: a("primary-color"), text: a("text-color"), background: a("background-color") },
      font: a("font"), radius: a("radius"), columns: a("columns"), sort: a("sort"),
      successUrl: a("success-url"), cancelUrl: a("cancel-url") };
  }

  // The theme from broker config < data-* < init(): each layer only sets what it names.
  function mergeTheme(layers) {
    var out = { title: DEFAULTS.title, colors: { primary: DEFAULTS.colors.primary, text: DEFAULTS.colors.text,
      background: DEFAULTS.colors.background }, font: DEFAULTS.font, radius: DEFAULTS.radius,
      columns: DEFAULTS.columns, sort: DEFAULTS.sort };
    layers.forEach(function (o) {
      if (!o) { return; }
      if (o.title) { out.title = String(o.title); }
      var colors = o.colors || {};
      ["primary", "text", "background"].forEach(function (k) { if (hex(colors[k])) { out.colors[k] = hex(colors[k]); } });
      if (FONTS[o.font]) { out.font = o.font; }
      if (intIn(o.radius, 0, 24) !== null) { out.radius = intIn(o.radius, 0, 24); }
      if (intIn(o.columns, 0, 4) !== null) { out.columns = intIn(o.columns, 0, 4); }
      if (SORTS.some(function (s) { return s[0] === o.sort; })) { out.sort = o.sort; }
    });
    return out;
  }

  function serverTheme(config) {
    var t = (config && config.theme) || {};
    return { title: t.title, colors: { primary: t.primary_color, text: t.text_color, background: t.background_color },
      font: t.font_family, radius: t.corner_radius, columns: t.columns, sort: t.default_sort };
  }

  // ---------- one shop instance ----------
  function Shop(options, tag) {
    var self = this;
    this.opts = options;
    this.tag = tag || null;
    this.preview = options.preview || null;
    this.key = String(options.key || "").trim();
    this.apiBase = String(options.api || SCRIPT_ORIGIN).replace(/\/+$/, "");
    this.config = null;
    this.all = []; this.byId = {}; this.banks = []; this.view = [];
    this.cart = []; this.email = ""; this.name = ""; this.notices = []; this.errors = {}; this.formError = null;
    this.busy = false; this.sheetOpen = false; this.stale = false; this.brokerId = "";
    this.filters = copy(EMPTY_FILTERS);
    this.syncHash = !this.preview && !instances.some(function (i) { return i.syncHash; });

    var host = null;
    if (options.target) { host = typeof options.target === "string" ? document.querySelector(options.target) : options.target; }
    if (!host) {
      host = document.createElement("div");
      if (tag && tag.parentNode) { tag.parentNode.insertBefore(host, tag.nextSibling); } else { document.body.appendChild(host); }
    }
    this.host = host;
    host.setAttribute("data-tradeline-widget", "");
    this.root = host.shadowRoot || host.attachShadow({ mode: "open" });
    this.root.textContent = "";
    this.root.appendChild(el("style", { text: CSS }));
    this.themeStyle = el("style");
    this.root.appendChild(this.themeStyle);
    this.app = el("div", { "class": "tlm" + (this.preview ? " preview" : "") });
    this.live = el("div", { "class": "sr", role: "status", "aria-live": "polite", "aria-atomic": "true" });
    this.root.appendChild(this.app);
    this.root.appendChild(this.live);
    this.applyTheme();

    if (!this.key && !this.preview) {
      this.app.appendChild(el("div", { "class": "error", role: "alert", text: "Widget misconfigured: the script tag needs data-key=\"tlm_pk_...\"." }));
      return;
    }
    this.app.appendChild(el("div", { "class": "loading", text: "Loading tradelines…" }));
    if (window.ResizeObserver) {
      new ResizeObserver(function () { self.layout(); }).observe(host);
    } else {
      window.addEventListener("resize", function () { self.layout(); });
    }
    if (this.preview) {
      this.config = { broker: this.preview.broker || {} };
      this.loaded({ tradelines: this.preview.tradelines || [], broker: this.preview.broker || {}, stale: false });
      return;
    }
    this.call("POST", "/api/analytics/widget-load");
    var config = this.call("GET", "/api/public/config");
    // With a saved cart, ask past the browser's cache: the cart is re-checked against the live catalog.
    var pricing = this.call("GET", "/api/public/pricing", null, storedCart());
    config.then(function (result) {
      if (result.ok && result.data) { self.config = result.data; self.applyTheme(); }
    });
    pricing.then(function (result) {
      if (!result.ok || !result.data || !Array.isArray(result.data.tradelines)) {
        self.app.textContent = "";
        self.app.appendChild(self.errorBox(result, "The catalog is not available right now. Please try again later."));
        return;
      }
      self.loaded(result.data);
    });
  }

  function copy(o) { return JSON.parse(JSON.stringify(o)); }

  Shop.prototype.theme = function () {
    return mergeTheme([serverTheme(this.config), this.tag ? attributeOptions(this.tag) : null, this.opts]);
  };

  Shop.prototype.applyTheme = function () {
    var t = this.theme();
    var primary = t.colors.primary, bg = t.colors.background, text = t.colors.text;
    // Readable text on the primary colour, whatever the broker picked.
    var onPrimary = contrast(primary, "#ffffff") >= contrast(primary, "#111827") ? "#ffffff" : "#111827";
    var dark = luminance(bg) < 0.2;
    this.themeStyle.textContent = ":host{--tlm-primary:" + primary + ";--tlm-primary-dark:" + shade(primary, 0.85) +
      ";--tlm-on-primary:" + onPrimary + ";--tlm-text:" + text + ";--tlm-bg:" + bg +
      ";--tlm-card:" + (dark ? shade(bg, 1.25) : "#ffffff") + ";--tlm-soft:" + (dark ? shade(bg, 1.6) : "#eef2f7") +
      ";--tlm-muted:" + (dark ? "#d1d5db" : "#4b5563") + ";--tlm-line:" + (dark ? "#4b5563" : "#e5e7eb") +
      ";--tlm-focus:" + (contrast(primary, bg) >= 3 ? primary : text) +
      ";--tlm-font:" + FONTS[t.font] + ";--tlm-r:" + t.radius + "px;--tlm-r-s:" + Math.min(t.radius, 8) + "px" +
      ";--tlm-cols:" + (t.columns ? "repeat(" + t.columns + ",minmax(0,1fr))" : "repeat(auto-fill,minmax(220px,1fr))") + "}" +
      ".narrow{--tlm-cols:repeat(auto-fill,minmax(220px,1fr))}";
    if (this.titleNode) { this.titleNode.textContent = t.title; }
    if (this.sortSelect && !this.filters.sort) { this.sortSelect.value = t.sort; this.refresh(); }
  };

  // Options from TradelineWidget.init() on an existing instance (the portal's live preview uses this).
  Shop.prototype.update = function (options) {
    var self = this;
    Object.keys(options || {}).forEach(function (k) {
      if (k === "colors") { self.opts.colors = Object.assign({}, self.opts.colors || {}, options.colors); }
      else if (k !== "target" && k !== "key" && k !== "preview") { self.opts[k] = options[k]; }
    });
    this.applyTheme();
    return this;
  };

  function storedCart() {
    try {
      for (var i = 0; i < sessionStorage.length; i++) {
        if (String(sessionStorage.key(i)).indexOf("tlm-cart:") === 0) { return true; }
      }
    } catch (e) { /* storage off */ }
    return false;
  }

  Shop.prototype.call = function (method, path, body, fresh) {
    var headers = { "x-api-key": this.key, "Accept": "application/json" };
    if (body) { headers["Content-Type"] = "application/json"; }
    var url = this.apiBase + path;
    return fetch(url, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      credentials: "omit", mode: "cors", cache: fresh ? "no-cache" : "default" })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          return { ok: response.ok, status: response.status, data: data };
        });
      }, function (error) {
        if (window.console) {
          console.warn("Tradeline widget: " + method + " " + url + " failed (" + error + "). If this site is not " +
            "among the broker's allowed origins, the browser blocks the call.");
        }
        return { ok: false, status: 0, data: null };
      });
  };

  Shop.prototype.track = function (event) {
    if (!this.preview) { this.call("POST", "/api/analytics/widget-event", { event: event }); }
  };

  // ---------- catalog ----------
  Shop.prototype.loaded = function (data) {
    var self = this, now = new Date(), banks = {};
    this.stale = !!data.stale;
    this.brokerId = (data.broker && data.broker.id) || "";
    this.all = data.tradelines.map(function (t) {
      var opened = parseDate(t.date_opened);
      var months = opened ? (now.getUTCFullYear() - opened[0]) * 12 + (now.getUTCMonth() + 1 - opened[1]) : null;
      var day = String(t.reporting_period || "").match(/(\d{1,2})/);
      banks[t.bank_name] = true;
      var row = { t: t, q: String(t.bank_name).toLowerCase(), months: months !== null && months >= 0 ? months : null,
        opened: opened, deadline: parseDate(t.purchase_deadline), post: day ? +day[1] : 99,
        limit: Math.floor((t.credit_limit || 0) / 100) };
      self.byId[t.card_id] = row;
      return row;
    });
    this.banks = Object.keys(banks).sort();
    this.readHash();
    this.restoreCart();
    this.build();
    this.refresh();
    var drawn = window.performance ? performance.now() - T0 : 0;
    if (!NS.timings.firstCardsMs && !this.preview) {
      NS.timings.cardsInsertedMs = Math.round(drawn);
      requestAnimationFrame(function () { NS.timings.firstCardsMs = Math.round(performance.now() - T0); });
    }
    if (this.syncHash) {
      window.addEventListener("hashchange", function () { if (self.readHash()) { self.syncControls(); self.refresh(); } });
    }
  };

  function passes(row, f, excluded) {
    var t = row.t;
    if (f.q && row.q.indexOf(f.q) < 0) { return false; }
    if (f.bank && t.bank_name !== f.bank) { return false; }
    if (excluded[t.bank_name]) { return false; }
    if (f.lmin && row.limit < f.lmin) { return false; }
    if (f.lmax && row.limit > f.lmax) { return false; }
    if (f.amin && (row.months === null || row.months < f.amin * 12)) { return false; }
    if (f.amax && (row.months === null || row.months > f.amax * 12)) { return false; }
    if (f.pmin && t.customer_price < f.pmin * 100) { return false; }
    if (f.pmax && t.customer_price > f.pmax * 100) { return false; }
    if (f.d1 && row.post < f.d1) { return false; }
    if (f.d2 && row.post > f.d2) { return false; }
    if (f.stock && !(t.stock > 0)) { return false; }
    return true;
  }

  var SORT_KEYS = {
    price: function (r) { return r.t.customer_price; }, limit: function (r) { return r.limit; },
    age: function (r) { return r.months === null ? -1 : r.months; }, posting: function (r) { return r.post; }
  };

  Shop.prototype.sortKey = function () { return this.filters.sort || this.theme().sort; };

  Shop.prototype.compute = function () {
    var f = this.filters, excluded = {};
    f.ex.forEach(function (b) { excluded[b] = true; });
    var rows = this.all.filter(function (r) { return passes(r, f, excluded); });
    var sort = this.sortKey(), desc = sort.charAt(0) === "-", key = SORT_KEYS[sort.replace("-", "")] || SORT_KEYS.price;
    rows.sort(function (a, b) {
      var out = (b.t.stock > 0) - (a.t.stock > 0);  // in stock first, whatever the sort
      if (!out) { out = desc ? key(b) - key(a) : key(a) - key(b); }
      return out || (a.t.card_id < b.t.card_id ? -1 : a.t.card_id > b.t.card_id ? 1 : 0);
    });
    this.view = rows;
  };

  // ---------- URL hash: "#tlm:q=chase&ex=Citi~Discover&sort=-limit&p=2" reproduces the view ----------
  Shop.prototype.readHash = function () {
    if (!this.syncHash) { return false; }
    var hash = location.hash || "";
    if (hash.indexOf("#tlm:") !== 0) { return false; }
    var params = new URLSearchParams(hash.slice(5)), f = copy(EMPTY_FILTERS);
    f.q = (params.get("q") || "").toLowerCase().slice(0, 80);
    f.bank = params.get("bank") || "";
    f.ex = params.get("ex") ? params.get("ex").split("~").filter(Boolean) : [];
    ["lmin", "lmax", "amin", "amax", "pmin", "pmax", "d1", "d2", "p"].forEach(function (k) {
      f[k] = intIn(params.get(k), 0, 10000000) || EMPTY_FILTERS[k];
    });
    f.stock = params.get("stock") === "1";
    f.sort = SORTS.some(function (s) { return s[0] === params.get("sort"); }) ? params.get("sort") : "";
    Object.assign(this.filters, f);  // in place: the controls' handlers hold this object
    return true;
  };

  Shop.prototype.writeHash = function () {
    if (!this.syncHash || !window.history || !history.replaceState) { return; }
    var f = this.filters, params = new URLSearchParams();
    if (f.q) { params.set("q", f.q); }
    if (f.bank) { params.set("bank", f.bank); }
    if (f.ex.length) { params.set("ex", f.ex.join("~")); }
    ["lmin", "lmax", "amin", "amax", "pmin", "pmax", "d1", "d2"].forEach(function (k) { if (f[k]) { params.set(k, f[k]); } });
    if (f.stock) { params.set("stock", "1"); }
    if (f.sort) { params.set("sort", f.sort); }
    if (f.p > 1) { params.set("p", f.p); }
    var text = params.toString(), base = location.href.split("#")[0];
    if (text) { history.replaceState(history.state, "", base + "#tlm:" + text); }
    else if (location.hash.indexOf("#tlm:") === 0) { history.replaceState(history.state, "", base); }
  };

  // ---------- cart: per broker in sessionStorage, checked against the live catalog ----------
  Shop.prototype.storageKey = function () { return "tlm-cart:" + (this.brokerId || this.key.slice(0, 24)); };

  Shop.prototype.restoreCart = function () {
    if (this.preview) { return; }
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(this.storageKey()) || "null"); } catch (e) { saved = null; }
    if (!saved || !Array.isArray(saved.lines)) { return; }
    if (saved.pending && /[?&](session_id|order)=/.test(location.search) &&
        location.search.indexOf(saved.pending.session_id) >= 0) {
      this.clearCart();  // back on the broker's success page: the cart was bought
      return;
    }
    this.email = String(saved.email || "").slice(0, 254);
    this.name = String(saved.name || "").slice(0, 200);
    var self = this, notices = [];
    saved.lines.slice(0, MAX_LINES).forEach(function (line) {
      var row = self.byId[line.card_id], label = line.bank || line.card_id;
      var quantity = intIn(line.quantity, 1, MAX_QTY) || 1;
      if (!row) { notices.push(label + " is no longer offered and was removed from your cart."); return; }
      var t = row.t;
      if (!(t.stock > 0)) { notices.push(t.bank_name + " sold out and was removed from your cart."); return; }
      if (quantity > t.stock) {
        notices.push("Only " + t.stock + " of " + t.bank_name + " left: quantity lowered to " + t.stock + ".");
        quantity = t.stock;
      }
      if (line.price && line.price !== t.customer_price) {
        notices.push("The price of " + t.bank_name + " changed from " + usd(line.price) + " to " + usd(t.customer_price) + ".");
      }
      self.cart.push({ card_id: t.card_id, quantity: quantity, price: t.customer_price, bank: t.bank_name });
    });
    this.notices = notices;
    this.saveCart();
  };

  Shop.prototype.saveCart = function (pending) {
    if (this.preview) { return; }
    var data = { v: 1, lines: this.cart, email: this.email, name: this.name, pending: pending || null };
    try { sessionStorage.setItem(this.storageKey(), JSON.stringify(data)); } catch (e) { /* storage off: memory only */ }
  };

  Shop.prototype.clearCart = function () {
    this.cart = []; this.notices = [];
    try { sessionStorage.removeItem(this.storageKey()); } catch (e) { /* nothing to clear */ }
    if (this.cartBox) { this.renderCart(); }
  };

  Shop.prototype.line = function (cardId) {
    for (var i = 0; i < this.cart.length; i++) { if (this.cart[i].card_id === cardId) { return this.cart[i]; } }
    return null;
  };
  Shop.prototype.maxFor = function (cardId) {
    var row = this.byId[cardId];
    return Math.max(1, Math.min(MAX_QTY, row ? row.t.stock : MAX_QTY));
  };
  Shop.prototype.count = function () { return this.cart.reduce(function (n, l) { return n + l.quantity; }, 0); };
  Shop.prototype.total = function () {
    var self = this;
    return this.cart.reduce(function (sum, l) { var r = self.byId[l.card_id]; return sum + (r ? r.t.customer_price * l.quantity : 0); }, 0);
  };

  Shop.prototype.cartChanged = function (message) {
    this.errors = {}; this.formError = null;
    this.saveCart();
    this.renderCart();
    this.renderCards();
    this.announce(message + " Cart: " + plural(this.count(), "item") + ", " + usd(this.total()) + ".");
    var cb = this.opts.onCartChange;
    if (typeof cb === "function") {
      var self = this;
      try {
        cb({ items: this.cart.map(function (l) { return { card_id: l.card_id, bank_name: l.bank, quantity: l.quantity,
          unit_price: self.byId[l.card_id] ? self.byId[l.card_id].t.customer_price : l.price }; }),
        count: this.count(), total: this.total() });
      } catch (e) { if (window.console) { console.error(e); } }
    }
  };

  Shop.prototype.add = function (cardId) {
    var line = this.line(cardId), t = this.byId[cardId].t;
    if (line) { line.quantity = Math.min(line.quantity + 1, this.maxFor(cardId)); }
    else if (this.cart.length >= MAX_LINES) { this.formError = "A cart holds at most " + MAX_LINES + " different tradelines."; this.renderCart(); return; }
    else { this.cart.push({ card_id: cardId, quantity: 1, price: t.customer_price, bank: t.bank_name }); }
    this.track("cart_add");
    this.cartChanged("Added " + t.bank_name + ".");
  };
  Shop.prototype.setQuantity = function (cardId, quantity) {
    var line = this.line(cardId);
    if (line) { line.quantity = Math.max(1, Math.min(quantity, this.maxFor(cardId))); }
    this.cartChanged("Quantity " + quantity + ".");
  };
  Shop.prototype.remove = function (cardId) {
    var line = this.line(cardId);
    this.cart = this.cart.filter(function (l) { return l.card_id !== cardId; });
    if (this.lineErrors) { delete this.lineErrors[cardId]; }
    this.cartChanged("Removed " + (line ? line.bank : "the tradeline") + ".");
  };

  Shop.prototype.announce = function (text) {
    var live = this.live;
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 30);
  };

  // ---------- the page skeleton (built once) ----------
  Shop.prototype.build = function () {
    var self = this, f = this.filters;
    this.app.textContent = "";
    this.titleNode = el("h2", { id: "tlm-title", text: this.theme().title });
    this.subNode = el("p", { "class": "sub" });
    function field(labelText, control) { return el("div", null, [el("label", { "for": control.id, text: labelText }), control]); }
    function select(id, options, value, onchange) {
      return el("select", { id: id, onchange: onchange }, options.map(function (o) {
        return el("option", { value: String(o[0]), selected: String(o[0]) === String(value) || null, text: o[1] });
      }));
    }
    function num(id, value, onchange) { return el("input", { id: id, type: "number", min: "0", step: "1", inputmode: "numeric", value: value || "", onchange: onchange }); }
    function set(name, parse) { return function (e) { f[name] = parse(e.target); f.p = 1; self.refresh(true); }; }
    var intValue = function (input) { return intIn(input.value, 0, 10000000) || 0; };

    var searchTimer = null;
    this.searchInput = el("input", { id: "tlm-q", type: "search", placeholder: "Bank name", autocomplete: "off", value: f.q,
      oninput: function (e) {
        clearTimeout(searchTimer);
        var input = e.target;  // read now: a shadow-DOM event has no target once dispatched
        searchTimer = setTimeout(function () { f.q = input.value.trim().toLowerCase().slice(0, 80); f.p = 1; self.refresh(true); }, 120);
      } });
    this.sortSelect = select("tlm-sort", SORTS, this.sortKey(), function (e) { f.sort = e.target.value; f.p = 1; self.refresh(true); });
    var limitOptions = [[0, "Any"]].concat(LIMITS.map(function (v) { return [v, usdWhole(v * 100)]; }));
    var ageOptions = [[0, "Any"]].concat(AGES.map(function (v) { return [v, v + " years"]; }));
    var dayOptions = [[0, "Any"]];
    for (var d = 1; d <= 31; d++) { dayOptions.push([d, "Day " + d]); }
    this.controls = {
      bank: select("tlm-bank", [["", "All banks"]].concat(this.banks.map(function (b) { return [b, b]; })), f.bank, set("bank", function (i) { return i.value; })),
      lmin: select("tlm-lmin", limitOptions, f.lmin, set("lmin", intValue)),
      lmax: select("tlm-lmax", limitOptions, f.lmax, set("lmax", intValue)),
      amin: select("tlm-amin", ageOptions, f.amin, set("amin", intValue)),
      amax: select("tlm-amax", ageOptions, f.amax, set("amax", intValue)),
      pmin: num("tlm-pmin", f.pmin, set("pmin", intValue)),
      pmax: num("tlm-pmax", f.pmax, set("pmax", intValue)),
      d1: select("tlm-d1", dayOptions, f.d1, set("d1", intValue)),
      d2: select("tlm-d2", dayOptions, f.d2, set("d2", intValue)),
      stock: el("input", { id: "tlm-stock", type: "checkbox", checked: f.stock, onchange: set("stock", function (i) { return i.checked; }) })
    };
    var c = this.controls;
    this.bankChecks = this.banks.map(function (b) {
      var box = el("input", { type: "checkbox", value: b, checked: f.ex.indexOf(b) >= 0, onchange: function () {
        f.ex = self.bankChecks.filter(function (x) { return x.checked; }).map(function (x) { return x.value; });
        f.p = 1; self.refresh(true);
      } });
      return box;
    });
    this.excludeSummary = el("summary", null);
    var filters = el("form", { "class": "filters", role: "search", "aria-label": "Find tradelines", onsubmit: function (e) { e.preventDefault(); } }, [
      el("div", { "class": "search" }, [el("label", { "for": "tlm-q", text: "Search by bank" }), this.searchInput]),
      field("Sort by", this.sortSelect),
      el("details", { "class": "more" }, [el("summary", { text: "Filters" }), el("div", { "class": "panel" }, [
        field("Bank", c.bank), field("Credit limit from", c.lmin), field("Credit limit up to", c.lmax),
        field("Age at least", c.amin), field("Age at most", c.amax),
        field("Price from ($)", c.pmin), field("Price up to ($)", c.pmax),
        field("Reports from", c.d1), field("Reports until", c.d2),
        el("label", { "class": "check" }, [c.stock, "In stock only"])
      ])]),
      el("details", { "class": "exclude" }, [this.excludeSummary, el("div", { "class": "banks", role: "group", "aria-label": "Banks I already have" },
        this.bankChecks.map(function (box, i) { return el("label", null, [box, self.banks[i]]); }))]),
      el("button", { type: "button", "class": "ghost reset", text: "Reset", onclick: function () { self.reset(); } })
    ]);
    this.countNode = el("p", { "class": "count", id: "tlm-count" });
    this.grid = el("ul", { "class": "grid", "aria-labelledby": "tlm-title" });
    this.pager = el("nav", { "class": "pager", "aria-label": "Pages of tradelines" });
    this.cartBox = el("div");
    this.side = el("aside", { "class": "side", "aria-label": "Cart" });
    this.barSummary = el("span", { "class": "sum" });
    this.barButton = el("button", { type: "button", "class": "primary open-cart", "aria-haspopup": "dialog",
      onclick: function () { self.openSheet(); } });
    this.bar = el("div", { "class": "bar", role: "region", "aria-label": "Cart summary" }, [this.barSummary, this.barButton]);
    this.sheet = el("div", { "class": "sheet", role: "dialog", "aria-modal": "true", "aria-labelledby": "tlm-cart-title",
      onkeydown: function (e) { self.sheetKey(e); } });
    this.backdrop = el("div", { "class": "backdrop", hidden: true, onclick: function (e) { if (e.target === self.backdrop) { self.closeSheet(); } } }, [this.sheet]);
    this.noticeNode = this.stale ? el("div", { "class": "notice", text: "Availability is being refreshed; stock may have changed." }) : null;
    this.app.appendChild(el("div", { "class": "cols" }, [
      el("section", { "class": "browse", "aria-labelledby": "tlm-title" }, [this.titleNode, this.subNode, this.noticeNode, filters,
        this.countNode, this.grid, this.pager]),
      this.side
    ]));
    this.app.appendChild(this.bar);
    this.app.appendChild(this.backdrop);
    this.layout(true);
  };

  Shop.prototype.syncControls = function () {
    var f = this.filters, c = this.controls;
    this.searchInput.value = f.q;
    this.sortSelect.value = this.sortKey();
    ["bank", "lmin", "lmax", "amin", "amax", "d1", "d2"].forEach(function (k) { c[k].value = String(f[k] || (k === "bank" ? "" : 0)); });
    c.pmin.value = f.pmin || ""; c.pmax.value = f.pmax || ""; c.stock.checked = f.stock;
    this.bankChecks.forEach(function (box) { box.checked = f.ex.indexOf(box.value) >= 0; });
  };

  Shop.prototype.reset = function () {
    Object.assign(this.filters, copy(EMPTY_FILTERS));
    this.syncControls();
    this.refresh(true);
    this.searchInput.focus();
  };

  // Wide: cart beside the cards. Narrow (phone): a sticky bar, the cart in a sheet.
  Shop.prototype.layout = function (force) {
    if (!this.side) { return; }
    var narrow = this.host.getBoundingClientRect().width < NARROW;
    if (narrow === this.narrow && !force) { return; }
    this.narrow = narrow;
    this.app.classList.toggle("narrow", narrow);
    if (!narrow && this.sheetOpen) { this.closeSheet(true); }
    (narrow ? this.sheet : this.side).appendChild(this.cartBox);
    this.renderCart();
  };

  Shop.prototype.openSheet = function () {
    this.sheetOpen = true;
    this.lastFocus = this.root.activeElement;
    this.backdrop.hidden = false;
    this.renderCart();
    var first = this.sheet.querySelector("button.close");
    if (first) { first.focus(); }
  };
  Shop.prototype.closeSheet = function (quiet) {
    this.sheetOpen = false;
    this.backdrop.hidden = true;
    if (!quiet) { this.barButton.focus(); }
  };
  Shop.prototype.sheetKey = function (e) {
    if (e.key === "Escape") { e.preventDefault(); this.closeSheet(); return; }
    if (e.key !== "Tab") { return; }
    var items = Array.prototype.filter.call(this.sheet.querySelectorAll("button,input,select,a[href]"), function (n) { return !n.disabled; });
    if (!items.length) { return; }
    var first = items[0], last = items[items.length - 1], active = this.root.activeElement;
    if (e.shiftKey && active === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
  };

  // ---------- drawing ----------
  Shop.prototype.refresh = function (userChange) {
    if (!this.grid) { return; }
    this.compute();
    var pages = Math.max(1, Math.ceil(this.view.length / PAGE));
    if (this.filters.p > pages) { this.filters.p = pages; }
    this.subNode.textContent = plural(this.all.length, "tradeline") + " from " + plural(this.banks.length, "bank");
    var ex = this.filters.ex.length;
    this.excludeSummary.textContent = "Exclude banks I already have" + (ex ? " (" + ex + ")" : "");
    this.renderCards();
    if (userChange) {
      this.writeHash();
      this.announce(this.countNode.textContent);
    }
  };

  Shop.prototype.renderCards = function () {
    if (!this.grid) { return; }
    var self = this, f = this.filters, total = this.view.length;
    var start = (f.p - 1) * PAGE, rows = this.view.slice(start, start + PAGE);
    var focus = this.focusKey();
    this.countNode.textContent = total
      ? "Showing " + (start + 1) + "–" + (start + rows.length) + " of " + plural(total, "tradeline")
      : "No tradelines match these filters.";
    this.grid.textContent = "";
    rows.forEach(function (r) { self.grid.appendChild(self.card(r)); });
    this.pager.textContent = "";
    var pages = Math.max(1, Math.ceil(total / PAGE));
    if (pages > 1) {
      var go = function (p) { return function () { f.p = p; self.refresh(true); self.grid.scrollIntoView && self.countNode.scrollIntoView({ block: "nearest" }); }; };
      this.pager.appendChild(el("button", { type: "button", "class": "ghost prev", "data-fk": "prev", disabled: f.p <= 1, onclick: go(f.p - 1), text: "‹ Previous" }));
      this.pager.appendChild(el("span", { "class": "muted", text: "Page " + f.p + " of " + pages }));
      this.pager.appendChild(el("button", { type: "button", "class": "ghost next", "data-fk": "next", disabled: f.p >= pages, onclick: go(f.p + 1), text: "Next ›" }));
    }
    this.restoreFocus(focus);
  };

  Shop.prototype.card = function (r) {
    var self = this, t = r.t, inCart = this.line(t.card_id), stock = t.stock > 0 ? t.stock : 0;
    var full = inCart && inCart.quantity >= this.maxFor(t.card_id);
    var image = safeUrl(t.image);
    // The bank's initial, covered by the catalog's image once (and if) that loads.
    var logo = el("span", { "class": "mono", "aria-hidden": "true" }, [String(t.bank_name).charAt(0), image ? el("img", {
      "class": "logo", src: image, alt: "", loading: "lazy", width: "36", height: "36",
      onload: function (e) { e.target.classList.add("shown"); }, onerror: function (e) { e.target.remove(); } }) : null]);
    var state = stock === 0 ? el("span", { "class": "badge out", text: "Sold out" })
      : stock <= LOW_STOCK ? el("span", { "class": "badge low", text: "Only " + stock + " left" })
        : el("span", { "class": "badge ok", text: stock + " available" });
    var label = t.bank_name + " " + usdWhole(t.credit_limit);
    return el("li", { "class": "card" + (stock === 0 ? " sold-out" : stock <= LOW_STOCK ? " low" : ""), "data-card-id": t.card_id }, [
      el("div", { "class": "head" }, [logo, el("h3", { "class": "bank", text: t.bank_name })]),
      el("dl", null, [
        el("dt", { text: "Credit limit" }), el("dd", { text: usdWhole(t.credit_limit) }),
        el("dt", { text: "Age" }), el("dd", { text: ageText(r.months), title: "Opened " + showDate(r.opened, t.date_opened) }),
        el("dt", { text: "Reports" }), el("dd", { text: t.reporting_period || "—" }),
        t.purchase_deadline ? el("dt", { text: "Buy by" }) : null,
        t.purchase_deadline ? el("dd", { "class": "deadline", text: showDate(r.deadline, t.purchase_deadline) }) : null
      ]),
      state,
      el("div", { "class": "row" }, [
        el("span", { "class": "price", text: usd(t.customer_price) }),
        el("button", { "class": "primary add", type: "button", "data-fk": "add-" + t.card_id, disabled: stock === 0 || full,
          "aria-label": stock === 0 ? label + ": sold out" : "Add " + label + " to cart" + (inCart ? " (" + inCart.quantity + " in cart)" : ""),
          onclick: function () { self.add(t.card_id); },
          text: stock === 0 ? "Sold out" : inCart ? "In cart (" + inCart.quantity + ") +1" : "Add to cart" })
      ])
    ]);
  };

  Shop.prototype.focusKey = function () {
    var active = this.root.activeElement;
    return active ? active.getAttribute("data-fk") : null;
  };
  Shop.prototype.restoreFocus = function (key) {
    if (!key) { return; }
    var again = this.root.querySelector("[data-fk='" + key + "']");
    if (again && !again.disabled) { again.focus(); }
    else if (key.indexOf("add-") === 0 || key === "prev" || key === "next") {
      var fallback = this.root.querySelector(key === "prev" ? ".next" : key === "next" ? ".prev" : "[data-fk^='qty-']");
      (fallback && !fallback.disabled ? fallback : this.searchInput).focus();
    }
  };

  Shop.prototype.renderCart = function () {
    if (!this.cartBox) { return; }
    var self = this, focus = this.focusKey(), lineErrors = this.lineErrors || {};
    var count = this.count(), total = this.total();
    var lines = this.cart.map(function (l) {
      var row = self.byId[l.card_id], unit = row ? row.t.customer_price : l.price, options = [];
      for (var q = 1; q <= self.maxFor(l.card_id); q++) { options.push(el("option", { value: String(q), selected: q === l.quantity || null, text: String(q) })); }
      return el("li", { "class": "line", "data-card-id": l.card_id }, [
        el("div", { "class": "name", text: l.bank }),
        el("div", { "class": "amount", text: usd(unit * l.quantity) }),
        el("div", { "class": "controls" }, [
          el("label", { "for": "tlm-qty-" + l.card_id, text: "Qty", style: "margin:0;font-size:13px" }),
          el("select", { "class": "qty", id: "tlm-qty-" + l.card_id, "data-fk": "qty-" + l.card_id,
            onchange: function (e) { self.setQuantity(l.card_id, parseInt(e.target.value, 10)); } }, options),
          el("span", { text: "× " + usd(unit) })
        ]),
        el("button", { type: "button", "class": "link remove", "data-fk": "rm-" + l.card_id, "aria-label": "Remove " + l.bank,
          onclick: function () { self.remove(l.card_id); }, text: "Remove" }),
        lineErrors[l.card_id] ? el("div", { "class": "msg", role: "alert", text: lineErrors[l.card_id] }) : null
      ]);
    });
    function fieldError(name) {
      return self.errors[name] ? el("div", { "class": "error", id: "tlm-err-" + name, role: "alert", text: self.errors[name] }) : null;
    }
    var email = el("input", { id: "tlm-email", type: "email", name: "email", autocomplete: "email", required: true,
      "data-fk": "email", placeholder: "you@example.com", value: this.email,
      "aria-invalid": this.errors.email ? "true" : null, "aria-describedby": this.errors.email ? "tlm-err-email" : null,
      oninput: function (e) {
        self.email = e.target.value; self.saveCart();
        if (self.errors.email && EMAIL.test(self.email.trim())) { self.clearFieldError("email", e.target); }
      } });
    var name = el("input", { id: "tlm-name", type: "text", name: "name", autocomplete: "name", "data-fk": "name",
      placeholder: "Full name (optional)", value: this.name,
      "aria-invalid": this.errors.name ? "true" : null, "aria-describedby": this.errors.name ? "tlm-err-name" : null,
      oninput: function (e) { self.name = e.target.value; self.saveCart(); if (self.errors.name) { self.clearFieldError("name", e.target); } } });
    var form = el("form", { "class": "cart", novalidate: true, onsubmit: function (e) { self.buy(e); } }, [
      el("div", { "class": "sheet-head" }, [
        el("h3", { id: "tlm-cart-title", text: "Your cart" + (count ? " (" + count + ")" : "") }),
        this.narrow ? el("button", { type: "button", "class": "ghost close", "aria-label": "Close cart", text: "Close",
          onclick: function () { self.closeSheet(); } }) : null
      ]),
      this.notices.length ? el("div", { "class": "notice", role: "alert" }, [el("ul", null, this.notices.map(function (n) { return el("li", { text: n }); }))]) : null,
      lines.length ? el("ul", { style: "list-style:none;margin:0;padding:0" }, lines) : el("div", { "class": "empty", text: "Your cart is empty." }),
      el("div", { "class": "total" }, [el("span", { text: "Total" }), el("span", { "class": "total-amount", text: usd(total) })]),
      el("p", { "class": "note", text: "Final price confirmed at checkout." }),
      el("label", { "for": "tlm-email", text: "Email (for your receipt)" }), email, fieldError("email"),
      el("label", { "for": "tlm-name", text: "Name" }), name, fieldError("name"),
      this.agreementField(),
      this.formError ? el("div", { "class": "error form-error", role: "alert" }, [this.formError]) : null,
      el("button", { "class": "primary buy", type: "submit", "data-fk": "buy", disabled: this.busy || !this.cart.length || !!this.preview,
        text: this.preview ? "Checkout (disabled in preview)" : this.busy ? "Redirecting to payment…" : "Buy now" }),
      el("div", { "class": "secure", text: "Secure payment by Stripe" })
    ]);
    this.cartBox.textContent = "";
    this.cartBox.appendChild(form);
    this.barSummary.textContent = "";
    this.barSummary.appendChild(el("span", null, [plural(count, "item") + " · ", el("strong", { text: usd(total) })]));
    this.barButton.textContent = "Checkout";
    this.barButton.setAttribute("aria-label", "Open cart and checkout, " + plural(count, "item") + ", " + usd(total));
    this.restoreFocus(focus);
  };

  Shop.prototype.clearFieldError = function (name, input) {
    delete this.errors[name];
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
    var box = this.root.getElementById ? this.root.getElementById("tlm-err-" + name) : null;
    if (box) { box.remove(); }
  };

  // Hook for the purchase agreement (issue 17): when it lands, return its checkbox and link here and add
  // its field to the request in checkoutBody(); until then the cart has no agreement step.
  Shop.prototype.agreementField = function () { return null; };

  Shop.prototype.checkoutBody = function () {
    var here = location.href.split("#")[0], o = this.opts, attrs = this.tag ? attributeOptions(this.tag) : {};
    var urls = (this.config && this.config.return_urls) || {};
    var success = o.successUrl || attrs.successUrl || urls.success_url || "";
    var cancel = o.cancelUrl || attrs.cancelUrl || urls.cancel_url || (here.indexOf("http") === 0 ? here : "");
    var body = { customer_email: this.email.trim(), customer_name: this.name.trim(),
      items: this.cart.map(function (l) { return { card_id: l.card_id, quantity: l.quantity }; }) };
    if (success) { body.success_url = new URL(success, here).href; }  // blank: the broker's configured URL
    if (cancel) { body.cancel_url = new URL(cancel, here).href; }
    return body;
  };

  Shop.prototype.buy = function (event) {
    event.preventDefault();
    if (this.busy || this.preview) { return; }
    this.errors = {}; this.formError = null; this.lineErrors = {};
    if (!this.cart.length) { this.formError = "Add at least one tradeline to the cart."; }
    else if (!EMAIL.test(this.email.trim())) {
      this.errors.email = "Enter a valid email address: the order confirmation goes there.";
    }
    if (this.formError || this.errors.email) { this.renderCart(); this.focusFirstError(); return; }
    var self = this, body = this.checkoutBody();
    this.busy = true;
    this.renderCart();
    this.call("POST", "/api/orders/checkout", body).then(function (result) {
      if (result.ok && result.data && result.data.checkout_url) {
        self.saveCart({ session_id: result.data.session_id, order_number: result.data.order_number });
        var cb = self.opts.onCheckout, go = true;
        if (typeof cb === "function") {
          try { go = cb({ order_number: result.data.order_number, checkout_url: result.data.checkout_url,
            total_charged: result.data.total_charged, items: body.items }) !== false; } catch (e) { if (window.console) { console.error(e); } }
        }
        if (go) { window.location.assign(result.data.checkout_url); }
        else { self.busy = false; self.renderCart(); }
        return;
      }
      self.busy = false;
      self.checkoutFailed(result);
    });
  };

  Shop.prototype.focusFirstError = function () {
    var target = this.root.querySelector("[aria-invalid=true]") || this.root.querySelector(".cart .error,.line .msg");
    if (target) { target.focus ? target.focus() : null; }
  };

  // Every 4xx the checkout API returns, as a message where it belongs (field, cart line or form).
  var FORM_MESSAGES = {
    UNAUTHENTICATED: "This shop's widget key is not valid, so orders cannot be taken right now.",
    INVALID_API_KEY: "This shop's widget key is not valid, so orders cannot be taken right now.",
    BROKER_PENDING: "This shop is not open for orders yet.",
    BROKER_SUSPENDED: "This shop cannot take orders right now.",
    BROKER_INACTIVE: "This shop cannot take orders right now.",
    CORS_ORIGIN_NOT_ALLOWED: "This website is not allowed to take orders for this shop; the shop owner must add it to the allowed websites.",
    SECRET_KEY_REQUIRED: "This shop's widget is misconfigured.",
    INVALID_URL: "This shop's return address is misconfigured, so checkout cannot start. Please contact the shop.",
    CART_EMPTY: "Add at least one tradeline to the cart.",
    CART_TOO_LARGE: "A cart holds at most " + MAX_LINES + " different tradelines; remove some and try again.",
    CART_INVALID: "The cart could not be read; remove the items and add them again.",
    CART_ITEM_INVALID: "A cart item could not be read; remove it and add it again.",
    CART_QUANTITY_INVALID: "Choose from 1 to " + MAX_QTY + " of each tradeline.",
    PAYLOAD_TOO_LARGE: "The cart is too large; remove some items and try again.",
    ORDER_NOT_PENDING: "That checkout was cancelled; please try again.",
    STRIPE_REJECTED: "The payment service refused to start this checkout. Please try again later.",
    RATE_LIMITED: "Too many attempts in a short time; wait a minute and try again.",
    NOT_FOUND: "Checkout is not available at this address."
  };

  Shop.prototype.checkoutFailed = function (result) {
    var data = result.data || {}, code = data.code || "", details = data.details, self = this;
    this.lineErrors = {};
    if (code === "INVALID_EMAIL") { this.errors.email = "Enter a valid email address: the order confirmation goes there."; }
    else if (code === "INVALID_NAME") { this.errors.name = data.error || "The name is too long."; }
    else if (code === "OUT_OF_STOCK" && Array.isArray(details)) {
      details.forEach(function (d) {
        var line = self.line(d.card_id);
        if (!line) { return; }
        var row = self.byId[d.card_id];
        if (row) { row.t.stock = d.available; }
        if (d.available > 0) {
          line.quantity = Math.min(line.quantity, d.available);
          self.lineErrors[d.card_id] = "Only " + d.available + " left: the quantity was lowered. Check the cart and try again.";
        } else {
          self.lineErrors[d.card_id] = "Sold out since you added it: remove it to continue.";
        }
      });
      this.formError = "Some tradelines no longer have enough stock.";
      this.saveCart();
    } else if (code === "CARD_NOT_FOUND") {
      ((details && details.card_ids) || []).forEach(function (id) { self.lineErrors[id] = "No longer offered: remove it to continue."; });
      this.formError = "Some tradelines in your cart are no longer offered.";
    } else if (code === "VALIDATION_ERROR" && Array.isArray(details)) {
      details.forEach(function (d) {
        var field = String(d.field || "");
        if (field.indexOf("customer_email") === 0) { self.errors.email = "Enter a valid email address."; }
        else if (field.indexOf("customer_name") === 0) { self.errors.name = "Check the name: " + (d.message || "invalid") + "."; }
        else if (!self.formError) { self.formError = "The cart could not be checked out (" + (field || "request") + ": " + (d.message || "invalid") + ")."; }
      });
      if (!this.formError && !this.errors.email && !this.errors.name) { this.formError = data.error || "The request is invalid."; }
    } else if (result.status === 0) {
      this.formError = "Could not reach the shop. Check your connection and try again.";
    } else if (FORM_MESSAGES[code]) {
      this.formError = FORM_MESSAGES[code];
    } else if (result.status >= 500) {
      this.formError = (data.error || "Checkout is not available right now.") + " Nothing was charged; please try again later.";
    } else {
      this.formError = data.error || "Checkout could not be started. Please try again.";
    }
    this.renderCart();
    this.renderCards();
    this.focusFirstError();
  };

  Shop.prototype.errorBox = function (result, fallback) {
    var data = result && result.data;
    return el("div", { "class": "error", role: "alert", text: (data && data.error) || fallback });
  };

  // ---------- public API ----------
  function init(options) {
    options = options || {};
    var target = options.target ? (typeof options.target === "string" ? document.querySelector(options.target) : options.target) : null;
    for (var i = 0; i < instances.length; i++) {
      if ((target && instances[i].host === target) || (!target && !options.preview && instances[i].tag)) {
        return instances[i].update(options);
      }
    }
    var shop = new Shop(options, null);
    instances.push(shop);
    return shop;
  }
  NS.init = init;
  // Empties every saved cart of this site (for the broker's thank-you page, with or without a widget on it).
  NS.clearCart = function () {
    instances.forEach(function (s) { s.clearCart(); });
    try {
      for (var i = sessionStorage.length - 1; i >= 0; i--) {
        var name = String(sessionStorage.key(i));
        if (name.indexOf("tlm-cart:") === 0) { sessionStorage.removeItem(name); }
      }
    } catch (e) { /* storage off */ }
  };

  if (script && script.getAttribute("data-key") && !script.hasAttribute("data-manual") && !script.getAttribute("data-tlm-mounted")) {
    script.setAttribute("data-tlm-mounted", "1");
    var auto = attributeOptions(script);
    instances.push(new Shop({ key: auto.key, api: auto.api, target: auto.target }, script));
  }
})();
