  // widget.js part 50-checkout.js: Checkout: the request, the agreement hook, and every 4xx of the checkout API shown inline.
  // The Tradeline User Agreement: a link to its page and a checkbox, never pre-ticked. Buy refuses until
  // it is ticked; the request carries the version shown (422 AGREEMENT_OUTDATED reloads it).
  Shop.prototype.loadAgreement = function () {
    var self = this;
    this.agreementAsked = true;
    this.call("GET", "/api/public/agreement").then(function (result) {
      if (result.ok && result.data && result.data.version) { self.agreement = result.data; self.renderCart(); }
    });
  };

  Shop.prototype.agreementField = function () {
    if (this.preview) { return null; }
    if (!this.agreementAsked) { this.loadAgreement(); }
    if (!this.agreement) { return null; }
    var self = this, a = this.agreement, invalid = !!this.errors.agreement;
    var box = el("input", { type: "checkbox", name: "agreement", id: "tlm-agreement", "aria-invalid": invalid ? "true" : null,
      onchange: function (e) { self.agreed = !!e.target.checked; if (self.agreed) { delete self.errors.agreement; } } });
    box.checked = !!this.agreed;
    return el("div", { "class": "agreement" }, [
      el("label", { "for": "tlm-agreement" }, [box, el("span", { text: " I have read and accept the " }),
        el("a", { href: a.url, target: "_blank", rel: "noopener", text: a.title }),
        el("span", { text: " (version " + a.version + ")." })]),
      invalid ? el("div", { "class": "error", role: "alert", text: this.errors.agreement }) : null
    ]);
  };

  Shop.prototype.checkoutBody = function () {
    var here = location.href.split("#")[0], o = this.opts, attrs = this.tag ? attributeOptions(this.tag) : {};
    var urls = (this.config && this.config.return_urls) || {};
    var success = o.successUrl || attrs.successUrl || urls.success_url || "";
    var cancel = o.cancelUrl || attrs.cancelUrl || urls.cancel_url || (here.indexOf("http") === 0 ? here : "");
    var body = { customer_email: this.email.trim(), customer_name: this.name.trim(),
      items: this.cart.map(function (l) { return { card_id: l.card_id, quantity: l.quantity }; }) };
    if (success) { body.success_url = new URL(success, here).href; }  // blank: the broker's configured URL
    if (cancel) { body.cancel_url = new URL(cancel, here).href; }
    body.agreement_version = this.agreement ? this.agreement.version : null;
    body.agreement_accepted = this.agreed === true;
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
    else if (!this.agreed || !this.agreement) { this.errors.agreement = "Please read and accept the Tradeline User Agreement."; }
    if (this.formError || this.errors.email || this.errors.agreement) { this.renderCart(); this.focusFirstError(); return; }
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
    if (code === "AGREEMENT_REQUIRED" || code === "AGREEMENT_OUTDATED") {
      this.errors.agreement = code === "AGREEMENT_OUTDATED"
        ? "The agreement was just updated: please read the new version and tick the box again."
        : "Please read and accept the Tradeline User Agreement.";
      this.agreed = false;
      if (code === "AGREEMENT_OUTDATED") { this.loadAgreement(); }
    } else if (code === "INVALID_EMAIL") { this.errors.email = "Enter a valid email address: the order confirmation goes there."; }
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

