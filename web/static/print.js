// Print buttons: every element with data-print prints the page (the education card, the
// monthly statistics). A static file rather than onclick="...", so the pages run under a
// Content-Security-Policy without inline script.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function (e) { e.preventDefault(); window.print(); });
  });
})();
