// Passkeys (WebAuthn): the browser signs the server's challenge; the server checks everything.
// Forms carry their options in data-options (no inline script under our CSP):
//   data-webauthn="create"  add a passkey; the answer goes in [data-webauthn-answer]
//   data-webauthn="get"     sign in or confirm; with data-conditional, also offered in the
//                           username field's autofill where the browser supports it
//   [data-webauthn-proof]   in a security-page form: with "Passkey" chosen as the proof,
//                           the form's button asks for the passkey
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBytes(value) {
    var text = atob(value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: toBytes(d.id), transports: d.transports };
    });
  }
  function creationOptions(json) {
    var o = JSON.parse(json);
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return o;
  }
  function requestOptions(json) {
    var o = JSON.parse(json);
    o.challenge = toBytes(o.challenge);
    o.allowCredentials = descriptors(o.allowCredentials);
    return o;
  }
  function encode(credential) {
    var r = credential.response, response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      response: response, clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined
    });
  }
  function showError(form) {
    var error = form.querySelector("[data-webauthn-error]");
    if (error) error.hidden = false;
  }

  var pending = null; // the conditional (autofill) request, aborted before a modal one

  function ask(form, options, conditional) {
    var request;
    if (form.dataset.webauthn === "create") {
      request = navigator.credentials.create({ publicKey: creationOptions(options) });
    } else {
      var call = { publicKey: requestOptions(options) };
      if (conditional) {
        pending = new AbortController();
        call.mediation = "conditional";
        call.signal = pending.signal;
      } else if (pending) {
        pending.abort();
        pending = null;
      }
      request = navigator.credentials.get(call);
    }
    return request.then(function (credential) {
      form.querySelector("[data-webauthn-answer]").value = encode(credential);
      form.submit();
    });
  }

  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    var start = form.querySelector("[data-webauthn-start]");
    if (start) start.hidden = false;
    form.addEventListener("submit", function (event) {
      if (form.querySelector("[data-webauthn-answer]").value) return;
      event.preventDefault();
      if (!form.reportValidity()) return;
      ask(form, form.dataset.options, false).catch(function () { showError(form); });
    });
    if ("conditional" in form.dataset && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) ask(form, form.dataset.options, true).catch(function () {});
      });
    }
  });

  // Security page: with "Passkey" chosen under "Confirm with", the code field is hidden and
  // the form's own button asks for the passkey.
  document.querySelectorAll("[data-webauthn-proof]").forEach(function (proof) {
    var form = proof.closest("form");
    var method = form.querySelector("[name=method]");
    var code = form.querySelector("[name=code]");
    var codeLabel = code.closest("label");
    function sync() {
      var passkey = method.value === "passkey";
      code.required = !passkey;
      if (codeLabel) codeLabel.hidden = passkey;
    }
    method.addEventListener("change", sync);
    sync();
    form.addEventListener("submit", function (event) {
      if (method.value !== "passkey" || code.value) return;
      event.preventDefault();
      var call = { publicKey: requestOptions(proof.dataset.options) };
      navigator.credentials.get(call).then(function (credential) {
        code.value = encode(credential);
        form.submit();
      }).catch(function () { showError(form); });
    });
  });
})();
