// Live refresh (R16 muster view): every element with data-live-url is replaced by the HTML
// fragment at that URL every data-live-interval ms (default 2000); the fragment carries its
// own server-side time stamp. A failed fetch keeps the last list on screen and marks it
// stale, so the view never goes blank in an emergency.
(function () {
  "use strict";
  document.querySelectorAll("[data-live-url]").forEach(function (el) {
    var url = el.dataset.liveUrl, every = parseInt(el.dataset.liveInterval || "2000", 10);
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          el.innerHTML = html; el.classList.remove("stale");
        })
        .catch(function () { el.classList.add("stale"); })
        .finally(function () { setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  });
})();
