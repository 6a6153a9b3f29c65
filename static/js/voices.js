// Voice form helpers: a live character count, and "a complaint always wants a reply".
// The server enforces both; the page works without this script.
(function () {
  "use strict";

  function countChars(text) {
    // Count as the server does: code points, with CRLF as one line break.
    return Array.from(text.replace(/\r\n/g, "\n")).length;
  }

  function formatNumber(n) {
    return n.toLocaleString("ja-JP");
  }

  document.querySelectorAll("textarea[data-voice-counter]").forEach(function (area) {
    var out = document.getElementById(area.dataset.voiceCounter);
    if (!out) return;
    var visual = out.querySelector("[data-visual]");
    var spoken = out.querySelector("[data-spoken]");
    var max = parseInt(area.dataset.maxChars || "4000", 10);
    var timer = null;
    var describedBy = (area.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (describedBy.indexOf(out.id) < 0) {
      describedBy.push(out.id);
      area.setAttribute("aria-describedby", describedBy.join(" "));
    }

    function message() {
      var n = countChars(area.value);
      if (n > max) return formatNumber(n - max) + "文字超えています（" + formatNumber(max) + "文字まで）";
      return "あと" + formatNumber(max - n) + "文字（" + formatNumber(n) + " / " + formatNumber(max) + "文字）";
    }

    function update(announce) {
      var text = message();
      visual.textContent = text;
      out.classList.toggle("is-over", countChars(area.value) > max);
      // Screen readers hear the count politely, once the writer pauses.
      window.clearTimeout(timer);
      if (announce) {
        timer = window.setTimeout(function () { spoken.textContent = text; }, 1000);
      }
    }

    visual.setAttribute("aria-hidden", "true");
    area.addEventListener("input", function () { update(true); });
    update(false);
  });

  var wantsReply = document.getElementById("wants_reply");
  var kinds = document.querySelectorAll("input[name=kind]");
  if (wantsReply && kinds.length) {
    var sync = function () {
      var complaint = document.querySelector("input[name=kind][value=complaint]:checked") !== null;
      if (complaint) wantsReply.checked = true;
      wantsReply.setAttribute("aria-disabled", complaint ? "true" : "false");
      wantsReply.dataset.forced = complaint ? "1" : "";
    };
    kinds.forEach(function (k) { k.addEventListener("change", sync); });
    wantsReply.addEventListener("click", function (event) {
      if (wantsReply.dataset.forced) event.preventDefault();  // a complaint always gets a reply
    });
    sync();
  }
})();
