// Consequential actions are confirmed before they are sent (issue 13): a
// <form data-confirm="question"> asks window.confirm(question) when it is submitted;
// cancelling sends nothing. A file, not inline script: the Content-Security-Policy
// allows scripts from 'self' only (web/security.py).
(function () {
  "use strict";
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true // capture: asked before any other submit handler runs
  );
})();
