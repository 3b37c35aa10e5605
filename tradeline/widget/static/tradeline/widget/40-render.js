  // widget.js part 40-render.js: Drawing: the cards, the pager and the cart.
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

