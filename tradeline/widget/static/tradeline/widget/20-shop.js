  // widget.js part 20-shop.js: One shop instance: mount, theme, API calls, the catalog, filters and the URL hash.
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
    // The first cards wait for the broker's theme too (its default sort decides which cards come first).
    Promise.all([config, pricing]).then(function (results) {
      var settings = results[0], result = results[1];
      if (settings.ok && settings.data) { self.config = settings.data; self.applyTheme(); }
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

