// Checkout pages: move focus to the error summary so keyboard and screen-reader users
// start from the list of problems (each links to its field). Without JavaScript the
// summary is still at the top of the page and announced by role="alert".
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
  // A step form is never submitted twice by an impatient double click.
  document.querySelectorAll("[data-checkout] form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting) {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "1";
    });
  });
})();
