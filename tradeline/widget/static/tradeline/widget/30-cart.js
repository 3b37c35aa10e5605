  // widget.js part 30-cart.js: The cart (sessionStorage, re-checked against the catalog) and the page skeleton and layout.
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

