// Progressive enhancement: choosing an option reloads the page for that variant at once.
// Without JavaScript the "Show this option" button does the same; it stays for keyboard users.
(function () {
  "use strict";
  document.querySelectorAll("[data-variant-picker]").forEach(function (form) {
    form.addEventListener("change", function () { form.submit(); });
  });
})();
