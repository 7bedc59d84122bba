// Strato's passkey ceremonies (WebAuthn) for the sign-in, registration and account pages.
//
// The server speaks WebAuthn's JSON form (binary fields as base64url, http/auth/auth_routes.cpp);
// this file turns options into the ArrayBuffers navigator.credentials wants, runs the
// ceremony, and sends the credential back as JSON. Every state-changing fetch carries the
// page's CSRF token (<meta name="csrf-token">) in X-CSRF-Token. Errors are shown as the
// sentence the server (or the browser) gave, in the page's role="alert" element.
"use strict";

(function () {
  // --- base64url <-> ArrayBuffer

  function fromBase64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "===".slice((b64.length + 3) % 4);
    const bin = atob(padded);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      const d = { type: c.type || "public-key", id: fromBase64url(c.id) };
      if (c.transports && c.transports.length) d.transports = c.transports;
      return d;
    });
  }

  function creationOptions(json) {
    const o = Object.assign({}, json);
    o.challenge = fromBase64url(json.challenge);
    o.user = Object.assign({}, json.user, { id: fromBase64url(json.user.id) });
    o.excludeCredentials = descriptors(json.excludeCredentials);
    return o;
  }

  function requestOptions(json) {
    const o = Object.assign({}, json);
    o.challenge = fromBase64url(json.challenge);
    o.allowCredentials = descriptors(json.allowCredentials);
    return o;
  }

  function registrationJson(cred) {
    const r = cred.response;
    const response = {
      clientDataJSON: toBase64url(r.clientDataJSON),
      attestationObject: toBase64url(r.attestationObject),
    };
    if (typeof r.getTransports === "function") response.transports = r.getTransports();
    return { id: cred.id, rawId: toBase64url(cred.rawId), type: cred.type, response: response };
  }

  function assertionJson(cred) {
    const r = cred.response;
    const response = {
      clientDataJSON: toBase64url(r.clientDataJSON),
      authenticatorData: toBase64url(r.authenticatorData),
      signature: toBase64url(r.signature),
    };
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
    return { id: cred.id, rawId: toBase64url(cred.rawId), type: cred.type, response: response };
  }

  // --- talking to the server

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  class ServerError extends Error {}

  async function postJson(url, body) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const token = csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
    let res;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: headers,
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (e) {
      throw new ServerError("Strato could not be reached; check your connection and try again.");
    }
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const message =
        data && data.error && data.error.message
          ? data.error.message
          : "the server answered " + res.status + " without an explanation; try again";
      throw new ServerError(sentence(message));
    }
    return data || {};
  }

  // The API's messages are sentences without the capital and full stop; the page adds them,
  // leaving a first word such as "clientDataJSON" as it is.
  function sentence(text) {
    let s = String(text).trim();
    if (!s) return s;
    if (/^[a-z]+\b/.test(s) && !/^[a-z]+[A-Z]/.test(s)) s = s.charAt(0).toUpperCase() + s.slice(1);
    return /[.!?]$/.test(s) ? s : s + ".";
  }

  // What the browser's own refusals mean, in words (the DOMException names are stable).
  function browserError(e) {
    if (e instanceof ServerError) return e.message;
    switch (e && e.name) {
      case "NotAllowedError":
        return "The passkey prompt was closed or timed out, so nothing changed. Try again when you are ready.";
      case "InvalidStateError":
        return "This authenticator already holds a passkey for this account; use another one.";
      case "SecurityError":
        return (
          "This page's address (" + location.origin + ") is not one Strato's passkeys are for, " +
          "so the browser refused. Open Strato at its usual address."
        );
      case "NotSupportedError":
        return "This browser or authenticator cannot make a passkey Strato accepts.";
      case "AbortError":
        return "The passkey request was cancelled.";
      default:
        return "The passkey step failed: " + ((e && e.message) || String(e));
    }
  }

  // --- showing progress and errors

  function show(id, text) {
    const el = document.getElementById(id);
    if (!el) return;
    // The element stays in place (a live region); only its text changes.
    el.textContent = "";
    if (!text) return;
    const label = document.createElement("strong");
    label.textContent = id === "ceremony-error" ? "Error:" : "Note:";
    const span = document.createElement("span");
    span.textContent = text;
    el.append(label, " ", span);
  }

  function safeNext(next) {
    if (typeof next !== "string" || next[0] !== "/" || next[1] === "/" || next[1] === "\\") {
      return "/";
    }
    return next;
  }

  // Runs one ceremony with the page's controls disabled (aria-busy while it runs).
  async function run(control, steps) {
    const form = control.form || control;
    const buttons = document.querySelectorAll("button[data-ceremony], form[data-ceremony] button");
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    form.setAttribute("aria-busy", "true");
    show("ceremony-error", "");
    try {
      await steps();
    } catch (e) {
      show("ceremony-status", "");
      show("ceremony-error", browserError(e));
    } finally {
      form.removeAttribute("aria-busy");
      buttons.forEach(function (b) {
        b.disabled = false;
      });
    }
  }

  function field(form, name) {
    const el = form.elements.namedItem(name);
    return el ? el.value.trim() : "";
  }

  // --- the ceremonies

  async function register(form) {
    const username = field(form, "username");
    const displayName = field(form, "display_name");
    const body = { username: username };
    if (displayName) body.display_name = displayName;
    show("ceremony-status", "Asking Strato to start…");
    const options = await postJson("/auth/register/options", body);
    show("ceremony-status", "Follow your browser's prompt to create the passkey…");
    const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
    show("ceremony-status", "Checking the new passkey…");
    const verify = { credential: registrationJson(cred) };
    const name = field(form, "passkey_name");
    if (name) verify.name = name;
    await postJson("/auth/register/verify", verify);
    show("ceremony-status", "Account created. Opening Strato…");
    location.assign(safeNext(form.dataset.next));
  }

  async function addPasskey(form) {
    show("ceremony-status", "Asking Strato to start…");
    const options = await postJson("/auth/register/options", {});
    show("ceremony-status", "Follow your browser's prompt to create the passkey…");
    const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
    show("ceremony-status", "Checking the new passkey…");
    const verify = { credential: registrationJson(cred) };
    const name = field(form, "passkey_name");
    if (name) verify.name = name;
    await postJson("/auth/register/verify", verify);
    location.assign(safeNext(form.dataset.next));
  }

  async function signIn(control, username) {
    const body = username ? { username: username } : {};
    show("ceremony-status", "Asking Strato to start…");
    const options = await postJson("/auth/login/options", body);
    show("ceremony-status", "Follow your browser's prompt to use your passkey…");
    const cred = await navigator.credentials.get({ publicKey: requestOptions(options) });
    show("ceremony-status", "Checking the passkey…");
    await postJson("/auth/login/verify", { credential: assertionJson(cred) });
    show("ceremony-status", "Signed in. Opening Strato…");
    location.assign(safeNext(control.dataset.next));
  }

  // --- wiring

  function init() {
    const controls = document.querySelectorAll("[data-ceremony]");
    if (!controls.length) return;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show(
        "ceremony-error",
        "This browser cannot use passkeys. Use a current browser, or open Strato over https.",
      );
      return;
    }
    controls.forEach(function (el) {
      const kind = el.dataset.ceremony;
      if (kind === "signin-discoverable") {
        el.addEventListener("click", function () {
          run(el, function () {
            return signIn(el, "");
          });
        });
        return;
      }
      el.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!el.reportValidity()) return;
        run(el, function () {
          if (kind === "register") return register(el);
          if (kind === "add-passkey") return addPasskey(el);
          return signIn(el, field(el, "username"));
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
