// Signature pad for the safety notification card (R7): draw with a finger, pen or mouse on
// a <canvas data-signature-for="FIELD_ID">; every stroke end stores the drawing as a PNG
// data URL in the hidden field, which the form posts. Pointer events cover all three inputs.
// Below it, the card's text the visitor signs (language switch, zones ticked).
(function () {
  "use strict";
  function setup(canvas) {
    var field = document.getElementById(canvas.dataset.signatureFor);
    var ctx = canvas.getContext("2d");
    var drawing = false, drawn = false, last = null;

    function resize() {
      // keep the bitmap at the displayed size (times the pixel ratio) so strokes are sharp
      var ratio = window.devicePixelRatio || 1, rect = canvas.getBoundingClientRect();
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#10223a";
      clear();
    }
    function clear() {
      ctx.save(); ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height); ctx.restore();
      drawn = false; field.value = "";
      canvas.dispatchEvent(new CustomEvent("signature-change", { bubbles: true }));
    }
    function point(e) {
      var rect = canvas.getBoundingClientRect();
      return { x: e.clientX - rect.left, y: e.clientY - rect.top };
    }
    canvas.addEventListener("pointerdown", function (e) {
      e.preventDefault(); canvas.setPointerCapture(e.pointerId);
      drawing = true; last = point(e);
      ctx.beginPath(); ctx.arc(last.x, last.y, 1, 0, 2 * Math.PI); ctx.fill();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) return;
      var p = point(e);
      ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
      last = p; drawn = true;
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      if (drawn) field.value = canvas.toDataURL("image/png");
      canvas.dispatchEvent(new CustomEvent("signature-change", { bubbles: true }));
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    // a status line (data-signature-state="CANVAS_ID") says "signed" / "not signed yet" in
    // the page's language, from its data-signed / data-unsigned texts
    var state = document.querySelector('[data-signature-state="' + canvas.id + '"]');
    if (state) {
      canvas.addEventListener("signature-change", function () {
        state.textContent = field.value ? state.dataset.signed : state.dataset.unsigned;
      });
    }
    // the "must sign" error (data-signature-error="CANVAS_ID") goes once the visitor has
    // signed; the server still refuses a form without a signature
    canvas.addEventListener("signature-change", function () {
      if (!field.value) return;
      document.querySelectorAll('[data-signature-error="' + canvas.id + '"]').forEach(function (el) {
        el.hidden = true;
      });
    });
    var clearButton = document.querySelector('[data-signature-clear="' + canvas.id + '"]');
    if (clearButton) clearButton.addEventListener("click", function (e) { e.preventDefault(); clear(); });
    resize();
  }
  document.querySelectorAll("canvas[data-signature-for]").forEach(setup);

  // The notification card's text above the pad (R7): one block per language
  // (data-card-text="LANG"), switched by the buttons data-card-lang="LANG" so the visitor
  // reads it in their own; each block lists only the zones ticked in the form
  // (input[name=zones]), or says that none is named yet.
  var texts = document.querySelectorAll("[data-card-text]");
  if (!texts.length) return;
  var langButtons = document.querySelectorAll("[data-card-lang]");
  langButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      texts.forEach(function (t) { t.hidden = t.dataset.cardText !== button.dataset.cardLang; });
      langButtons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    });
  });
  var zoneBoxes = document.querySelectorAll("input[name=zones]");
  function showTicked() {
    var ticked = {};
    zoneBoxes.forEach(function (box) { ticked[box.value] = box.checked; });
    texts.forEach(function (t) {
      var any = false;
      t.querySelectorAll("li[data-zone]").forEach(function (li) {
        li.hidden = !ticked[li.dataset.zone];
        any = any || !li.hidden;
      });
      var none = t.querySelector("[data-no-zone]");
      if (none) none.hidden = any;
    });
  }
  zoneBoxes.forEach(function (box) { box.addEventListener("change", showTicked); });
  showTicked();
})();
