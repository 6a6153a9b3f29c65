// Passkeys (WebAuthn): register on /account/security, sign in on /login (autofill
// where the browser offers it, and a button), step-up on /profile/reauth.
// Each block stays hidden unless the browser supports passkeys; the pages work without it.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) { return; }

  function toBytes(value) {
    var text = value.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer), binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) { return { type: item.type, id: toBytes(item.id), transports: item.transports }; });
  }

  function creationOptions(json) {
    json.challenge = toBytes(json.challenge);
    json.user.id = toBytes(json.user.id);
    json.excludeCredentials = descriptors(json.excludeCredentials);
    return json;
  }

  function requestOptions(json) {
    json.challenge = toBytes(json.challenge);
    json.allowCredentials = descriptors(json.allowCredentials);
    return json;
  }

  function credentialJSON(credential) {
    var r = credential.response, out = {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      out.response.userHandle = toText(r.userHandle);
    }
    return out;
  }

  function post(url, token, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.error || "通信に失敗しました。もう一度お試しください。"); }
        return data;
      });
    });
  }

  function showError(element, message) {
    if (!element) { return; }
    element.textContent = message;
    element.hidden = false;
  }

  // The browser's own refusal (cancelled, timed out) gets a plain Japanese message.
  function browserMessage(error, fallback) {
    if (error && error.name === "NotAllowedError") { return "操作が取り消されたか、時間切れになりました。もう一度お試しください。"; }
    if (error && error.name === "InvalidStateError") { return "このパスキーはすでに登録されています。"; }
    if (error && error.name === "AbortError") { return null; }
    // Our own errors (from post) carry the server's Japanese message; anything else does not.
    return (error && error.name === "Error" && error.message) ? error.message : fallback;
  }

  // --- register (/account/security) -------------------------------------------------
  var register = document.getElementById("passkey-register");
  if (register) {
    register.hidden = false;
    var unsupported = document.getElementById("passkey-unsupported");
    if (unsupported) { unsupported.hidden = true; }
    var registerError = document.getElementById("passkey-register-error");
    register.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = register.querySelector("input[name=csrf_token]").value;
      var name = register.querySelector("input[name=name]").value;
      var button = register.querySelector("button[type=submit]");
      button.disabled = true;
      registerError.hidden = true;
      post(register.dataset.optionsUrl, token).then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      }).then(function (credential) {
        return post(register.dataset.registerUrl, token, { credential: credentialJSON(credential), name: name });
      }).then(function (data) {
        window.location.assign(data.redirect);
      }).catch(function (error) {
        button.disabled = false;
        showError(registerError, browserMessage(error, "パスキーを登録できませんでした。"));
      });
    });
  }

  // --- sign in (/login) and step-up (/profile/reauth) ----------------------------------
  function setUpAssertion(box, buttonId, errorId, conditional) {
    if (!box) { return; }
    box.hidden = false;
    var token = box.querySelector("input[name=csrf_token]").value;
    var button = document.getElementById(buttonId);
    var errorBox = document.getElementById(errorId);
    var pending = null;

    function run(mediation) {
      if (pending) { pending.abort(); }
      var controller = new AbortController();
      pending = controller;
      return post(box.dataset.optionsUrl, token).then(function (options) {
        var request = { publicKey: requestOptions(options), signal: controller.signal };
        if (mediation) { request.mediation = mediation; }
        return navigator.credentials.get(request);
      }).then(function (credential) {
        return post(box.dataset.verifyUrl, token, { credential: credentialJSON(credential), next: box.dataset.next || null });
      }).then(function (data) {
        window.location.assign(data.redirect);
      }).catch(function (error) {
        if (controller.signal.aborted) { return; }
        var message = browserMessage(error, "パスキーを確認できませんでした。");
        if (message) { showError(errorBox, message); }
      });
    }

    button.addEventListener("click", function () {
      if (errorBox) { errorBox.hidden = true; }
      run(null);
    });
    if (conditional && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) { run("conditional"); }
      }).catch(function () {});
    }
  }

  setUpAssertion(document.getElementById("passkey-login"), "passkey-login-button", "passkey-login-error", true);
  setUpAssertion(document.getElementById("reauth-passkey"), "reauth-passkey-button", "reauth-passkey-error", false);
  setUpAssertion(document.getElementById("staff-passkey"), "staff-passkey-button", "staff-passkey-error", false);
})();
