  // widget.js part 90-api.js: The public API (TradelineWidget.init, clearCart) and the mount from the script tag.
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
