// The few scripts My Page needs; every page works without them.
(function () {
  "use strict";
  // Disable a form's submit buttons after the first submit (the server is the real
  // guard against double submits; this only spares the member a second request).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.noDisable !== undefined) return;
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // Live character counters: <textarea data-maxlength-counter="id-of-output">
  document.querySelectorAll("[data-counter]").forEach(function (el) {
    var out = document.getElementById(el.dataset.counter);
    var max = parseInt(el.getAttribute("maxlength") || "0", 10);
    var update = function () { out.textContent = el.value.length + " / " + max + "文字"; };
    el.addEventListener("input", update); update();
  });
})();
