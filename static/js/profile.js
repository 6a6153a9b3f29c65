// Profile pages: postal-code fill and bank/branch search. Every page works
// without this script (the server fills and searches on submit).
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function getJSON(url) {
    return fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); });
  }

  function toHalfWidthDigits(s) {
    return s.replace(/[０-９]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); });
  }

  // --- address: fill prefecture / city / town from the postal code ---------------
  var addressForm = document.getElementById("address-form");
  if (addressForm) {
    var postal = addressForm.querySelector("#postal_code");
    var status = document.getElementById("postal-status");
    var base = addressForm.dataset.postalUrl;
    var last = "";
    var lookup = function () {
      var digits = toHalfWidthDigits(postal.value).replace(/[^0-9]/g, "");
      if (digits.length !== 7 || digits === last) return;
      last = digits;
      getJSON(base.replace("0000000", digits)).then(function (res) {
        if (!res.ok) { status.textContent = res.body.error || "郵便番号が見つかりません"; return; }
        var a = res.body;
        addressForm.querySelector("#prefecture").value = a.prefecture;
        addressForm.querySelector("#city").value = a.city;
        var street = addressForm.querySelector("#street");
        if (!street.value || street.dataset.autofilled === "1") {
          street.value = a.town; street.dataset.autofilled = "1";
        }
        status.textContent = a.prefecture + a.city + a.town + " を入力しました。番地まで入力してください。" +
          (a.towns.length > 1 ? "（この郵便番号の町名：" + a.towns.join("、") + "）" : "");
      }).catch(function () { /* the server checks again on submit */ });
    };
    postal.addEventListener("input", debounce(lookup, 250));
    postal.addEventListener("change", lookup);
    addressForm.querySelector("#street").addEventListener("input", function () { this.dataset.autofilled = "0"; });
    // The moving date and structure matter only when the insured property moves too.
    var moveFields = document.getElementById("move-fields");
    if (moveFields) {
      addressForm.querySelectorAll("input[name=property_moved]").forEach(function (radio) {
        radio.addEventListener("change", function () { moveFields.hidden = radio.value === "no" && radio.checked; });
      });
    }
  }

  // --- debit account: bank and branch search -------------------------------------
  var bankForm = document.getElementById("bank-form");
  if (bankForm) {
    var bankCode = bankForm.querySelector("#bank_code");
    var branchCode = bankForm.querySelector("#branch_code");
    var bankSearch = document.querySelector("[data-bank-search]");
    var branchSearch = document.querySelector("[data-branch-search]");
    var bankResults = document.getElementById("bank-results");
    var branchResults = document.getElementById("branch-results");
    var branchBox = document.getElementById("branch-search-box");
    var regular = document.getElementById("regular-fields");
    var yucho = document.getElementById("yucho-fields");

    var showYucho = function () {
      var isYucho = toHalfWidthDigits(bankCode.value).trim() === "9900";
      yucho.hidden = !isYucho;
      regular.hidden = isYucho;
      branchBox.hidden = isYucho || !/^[0-9]{4}$/.test(toHalfWidthDigits(bankCode.value).trim());
    };

    var render = function (list, items, onPick) {
      list.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-small";
        button.textContent = item.name + "（" + item.code + "）";
        button.addEventListener("click", function () { onPick(item); list.textContent = ""; });
        li.appendChild(button);
        list.appendChild(li);
      });
      if (!items.length) {
        var none = document.createElement("li");
        none.textContent = "見つかりません";
        list.appendChild(none);
      }
    };

    var pickBank = function (item) {
      bankCode.value = item.code;
      document.getElementById("bank-chosen").textContent = "選択中：" + item.name + "（" + item.code + "）";
      document.getElementById("branch-search-bank").value = item.code;
      branchCode.value = "";
      document.getElementById("branch-chosen").textContent = "";
      showYucho();
      (item.code === "9900" ? bankForm.querySelector("#kigo") : branchSearch).focus();
    };
    var pickBranch = function (item) {
      branchCode.value = item.code;
      document.getElementById("branch-chosen").textContent = "選択中：" + item.name + "（" + item.code + "）";
      bankForm.querySelector("#account_number").focus();
    };

    bankSearch.addEventListener("input", debounce(function () {
      var q = bankSearch.value.trim();
      if (!q) { bankResults.textContent = ""; return; }
      getJSON(bankSearch.dataset.url + "?q=" + encodeURIComponent(q)).then(function (res) {
        render(bankResults, res.body.banks || [], pickBank);
      });
    }, 250));
    branchSearch.addEventListener("input", debounce(function () {
      var code = toHalfWidthDigits(bankCode.value).trim();
      var q = branchSearch.value.trim();
      if (!/^[0-9]{4}$/.test(code)) return;
      getJSON(branchSearch.dataset.url.replace("0000", code) + "?q=" + encodeURIComponent(q)).then(function (res) {
        render(branchResults, res.body.branches || [], pickBranch);
      });
    }, 250));
    // Links from the server-side search pick without a page load.
    bankResults.addEventListener("click", function (e) {
      var a = e.target.closest("a[data-code]");
      if (a) { e.preventDefault(); pickBank({ code: a.dataset.code, name: a.dataset.name }); bankResults.textContent = ""; }
    });
    branchResults.addEventListener("click", function (e) {
      var a = e.target.closest("a[data-code]");
      if (a) { e.preventDefault(); pickBranch({ code: a.dataset.code, name: a.dataset.name }); branchResults.textContent = ""; }
    });
    bankCode.addEventListener("input", showYucho);
  }
})();
