// Live refresh (the R16 muster view and the dashboard): every element with data-live-url is
// replaced by the HTML fragment at that URL every data-live-interval ms (default 2000); the
// fragment carries its own server-side time stamp. A <details> with an id that the reader
// opened (a zone's list of who is inside) stays open across refreshes. A failed fetch, or
// one sent to the sign-in page (the session ended), keeps the last view on screen and marks
// it stale, so the view never goes blank in an emergency.
(function () {
  "use strict";
  document.querySelectorAll("[data-live-url]").forEach(function (el) {
    var url = el.dataset.liveUrl, every = parseInt(el.dataset.liveInterval || "2000", 10);
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { if (!r.ok || r.redirected) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          var open = Array.prototype.map.call(el.querySelectorAll("details[id][open]"), function (d) { return d.id; });
          el.innerHTML = html; el.classList.remove("stale");
          open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
        })
        .catch(function () { el.classList.add("stale"); })
        .finally(function () { setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  });
})();
