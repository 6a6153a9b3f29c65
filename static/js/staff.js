// Staff console: keeps the acting banner's "minutes left" current. The server
// enforces the 30-minute cap; this only tells the staff user how long is left.
(function () {
  "use strict";
  var banner = document.querySelector(".acting-banner[data-expires-at]");
  if (!banner) return;
  var expires = Date.parse(banner.dataset.expiresAt);
  var out = banner.querySelector("[data-acting-minutes]");
  if (!out || isNaN(expires)) return;
  var update = function () {
    var left = Math.max(0, Math.ceil((expires - Date.now()) / 60000));
    out.textContent = String(left);
    if (left <= 5) banner.classList.add("acting-banner-ending");
    // At 0 the server ends acting on the next request and returns to the console.
  };
  update();
  window.setInterval(update, 15000);
})();
