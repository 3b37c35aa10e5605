  // widget.js part 10-helpers.js: Small helpers: DOM building, money and date formatting, colours, options.
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

