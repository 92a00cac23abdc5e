// Cart page: submit a quantity as soon as it changes (the Update button still works
// without JavaScript), and never submit a cart form twice (a second submit would carry
// a stale cart version and be refused).
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
  document.querySelectorAll("[data-qty-form]").forEach(function (form) {
    var input = form.querySelector("input[name=quantity]");
    if (!input) return;
    input.addEventListener("change", function () {
      if (input.value !== "" && form.reportValidity()) form.requestSubmit();
    });
  });
})();
