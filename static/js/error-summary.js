// Moves keyboard and screen-reader focus to a form's error summary after a failed submit.
// The page works without it: the summary is role=alert and sits above the form.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
})();
