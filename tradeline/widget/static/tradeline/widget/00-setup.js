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
    ".agreement{font-size:13px;margin:10px 0}.agreement a{color:var(--tlm-primary)}",
    // the box sits on the sentence's first line (not stretched to the cart's width like the text inputs)
    ".cart .agreement input[type=checkbox]{width:auto;min-height:0;margin:0 6px 0 0;padding:0;vertical-align:-2px}",
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

