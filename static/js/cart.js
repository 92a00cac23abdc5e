// Cart page enhancement: a cart form is never submitted twice (a second submit would
// carry a stale cart version and be refused).
// Changing a quantity deliberately does not submit by itself (WCAG 3.2.2: changing a
// setting must not change context, and keyboard users step through values with the
// arrow keys); the shopper presses Update, with or without JavaScript.
(function () {
  "use strict";
  document.querySelectorAll("[data-cart] form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting) {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "1";
    });
  });
})();
