// Code pages: a 60-second countdown before "resend" and "switch channel" can be used.
// Without JavaScript the buttons are always there and the server says how long to wait.
(function () {
  "use strict";
  var box = document.querySelector("[data-countdown]");
  if (!box) return;
  var left = parseInt(box.getAttribute("data-countdown"), 10) || 0;
  var buttons = document.querySelectorAll("[data-countdown-button]");
  var text = box.querySelector(".auth-countdown-text");
  var render = function () {
    buttons.forEach(function (b) { b.disabled = left > 0; });
    if (!text) return;
    text.textContent = left > 0 ? "あと" + left + "秒で再送信できます。" : "認証コードを再送信できます。";
  };
  render();
  if (left <= 0) return;
  var timer = window.setInterval(function () {
    left -= 1;
    // Announce only the end and every 15 s, so screen readers are not flooded.
    box.setAttribute("aria-live", left <= 0 || left % 15 === 0 ? "polite" : "off");
    render();
    if (left <= 0) window.clearInterval(timer);
  }, 1000);
})();
