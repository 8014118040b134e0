/* Card payment on the checkout page: Stripe.js draws the card field and sends the number to
   Stripe itself; we only receive the payment method's id. Without JavaScript this file never
   runs and the page offers SEPA direct debit, which needs none. */
(function () {
  "use strict";

  function chosen(form) {
    var input = form.querySelector("input[name=method]:checked");
    return input ? input.value : "sepa";
  }

  // localstripe's Stripe.js (the stand-in of `make run` and the tests) declares a global
  // `class Element` that shadows the DOM's and breaks htmx; under it, links and forms go the
  // plain way (a full page load). The real Stripe.js declares nothing of the kind.
  function plainNavigationUnderLocalstripe() {
    if (document.body instanceof Element || window.ftPlainNavigation) return;
    window.ftPlainNavigation = true;
    ["click", "submit"].forEach(function (type) {
      document.addEventListener(type, function (e) {
        var el = e.target.closest && e.target.closest(type === "click" ? "a[href]" : "form");
        if (el && el.id !== "checkout-form") e.stopPropagation();
      }, true);
    });
  }

  function setup(form) {
    plainNavigationUnderLocalstripe();
    var stripe = window.Stripe(form.dataset.stripeKey);
    var card = stripe.elements().create("card");
    card.mount("#card-element");
    var sepaBox = document.getElementById("pay-sepa");
    var cardBox = document.getElementById("pay-card");
    var error = document.getElementById("card-error");
    form.querySelectorAll("[data-needs-js]").forEach(function (el) { el.hidden = false; });
    function show() {
      sepaBox.hidden = chosen(form) !== "sepa";
      cardBox.hidden = chosen(form) !== "card";
    }
    form.addEventListener("change", show);
    show();

    function fail(text) {
      error.textContent = text;
      error.hidden = false;
      form.querySelector("button").disabled = false;
    }

    form.addEventListener("submit", function (e) {
      if (chosen(form) !== "card" || form.elements.method_ref.value) return;
      e.preventDefault();
      form.querySelector("button").disabled = true;
      error.hidden = true;
      fetch(form.dataset.setupUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": form.elements.csrf_token.value },
      })
        .then(function (r) { return r.json(); })
        .then(function (answer) {
          if (!answer.client_secret) throw new Error(answer.error || "");
          return stripe.confirmCardSetup(answer.client_secret, {
            payment_method: { card: card, billing_details: { name: form.elements.holder.value } },
          });
        })
        .then(function (result) {
          if (result.error) throw new Error(result.error.message || "");
          form.elements.method_ref.value = result.setupIntent.payment_method;
          form.submit(); // a native submit: no submit event, no second round
        })
        .catch(function (err) { fail(err.message || document.body.dataset.offlineText); });
    });
  }

  // a charge the bank wants confirmed (3-D Secure): Stripe.js opens the bank's window
  function authenticate(box) {
    var stripe = window.Stripe(box.dataset.stripeKey);
    stripe.confirmCardPayment(box.dataset.clientSecret).then(function (result) {
      if (result.error) {
        var error = document.getElementById("card-error");
        error.textContent = result.error.message || "";
        error.hidden = false;
        return;
      }
      window.location.assign(box.dataset["return"]);
    });
  }

  function withStripe(holder, then) {
    if (holder.dataset.ready) return;
    holder.dataset.ready = "1";
    if (window.Stripe) return then(holder);
    var script = document.createElement("script");
    script.src = holder.dataset.stripeJs;
    script.onload = function () { then(holder); };
    document.head.appendChild(script);
  }

  function init() {
    var box = document.getElementById("card-authenticate");
    if (box && box.dataset.clientSecret) withStripe(box, authenticate);
    var form = document.getElementById("checkout-form");
    if (form && form.dataset.stripeKey) withStripe(form, setup);
  }

  init();
  document.addEventListener("htmx:load", init);
})();
