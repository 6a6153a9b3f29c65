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
  // The メニュー tab opens the full menu in place (without a script the link
  // jumps to #site-menu, which CSS shows with :target).
  document.querySelectorAll("[data-menu-toggle]").forEach(function (tab) {
    var menu = document.getElementById(tab.getAttribute("aria-controls"));
    if (!menu) return;
    tab.setAttribute("role", "button");
    tab.addEventListener("click", function (event) {
      event.preventDefault();
      var open = !menu.classList.contains("is-open");
      menu.classList.toggle("is-open", open);
      tab.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { var first = menu.querySelector("a"); if (first) first.focus(); }
    });
  });
  // 年・月・日 boxes: show the date in 和暦 as soon as it is complete.
  var ERAS = [[2019, 5, 1, "令和"], [1989, 1, 8, "平成"], [1926, 12, 25, "昭和"], [1912, 7, 30, "大正"], [1868, 1, 25, "明治"]];
  var toHalf = function (v) { return v.replace(/[０-９]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); }); };
  document.querySelectorAll("[data-date-parts]").forEach(function (box) {
    var id = box.dataset.dateParts, out = document.getElementById(id + "-era");
    var get = function (part) { return toHalf((document.getElementById(id + "-" + part) || {}).value || "").trim(); };
    var update = function () {
      var y = get("year"), m = get("month"), d = get("day");
      if (!/^\d{4}$/.test(y) || !/^\d{1,2}$/.test(m) || !/^\d{1,2}$/.test(d) || !out) return;
      var t = new Date(+y, +m - 1, +d);
      if (t.getMonth() !== +m - 1) { out.textContent = ""; return; }
      for (var i = 0; i < ERAS.length; i++) {
        var e = ERAS[i];
        if (t >= new Date(e[0], e[1] - 1, e[2])) {
          var n = +y - e[0] + 1;
          out.textContent = e[3] + (n === 1 ? "元" : n) + "年" + (+m) + "月" + (+d) + "日";
          return;
        }
      }
    };
    box.addEventListener("input", update);
  });
  // A table wider than the phone scrolls sideways: make that region reachable and
  // named for keyboard users (only when it really scrolls).
  var markScrollable = function () {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) wrap.setAttribute("aria-label", "表（横にスクロールできます）");
      }
    });
  };
  markScrollable();
  window.addEventListener("resize", markScrollable);
})();
