// Live updates: one server-sent event stream per tab (GET /api/v1/events/stream), opened by the
// layout's <head> for signed-in pages only, never by an element that gets swapped. Each message
// names an event the user may read; this turns it into DOM events on <body>:
//
//   live-<kind>        "live-vm", "live-org", "live-host", "live-user"
//   live-<kind>-<id>   "live-vm-6f1c..." (one VM's page listens to its own)
//   live-change        any event
//   live-reset         the stream missed events (reconnected too late): refresh everything
//
// Elements refresh themselves with htmx (hx-get + hx-select + hx-trigger="live-vm from:body");
// bursts are coalesced so a page re-fetches at most every 200 ms, and the last event of a burst
// always leads to a fetch. EventSource reconnects by itself and sends Last-Event-ID, so the
// server resumes after the last event this tab saw.
(function () {
  "use strict";
  if (!window.EventSource) return;

  const pending = new Map();
  let timer = null;

  function flush() {
    timer = null;
    const names = Array.from(pending.keys());
    pending.clear();
    for (const name of names) {
      document.body.dispatchEvent(new CustomEvent(name, { bubbles: false }));
    }
  }

  function queue(name) {
    pending.set(name, true);
    if (timer === null) timer = window.setTimeout(flush, 200);
  }

  function setStatus(text) {
    const el = document.getElementById("live-status");
    if (el) el.textContent = text;
  }

  function open() {
    // The page shows the read models as of (at least) this position; start right after it so
    // nothing that happened while the page loaded is missed. Reconnects send Last-Event-ID.
    const meta = document.querySelector('meta[name="live-after"]');
    const after = meta && /^[0-9]+$/.test(meta.content) ? "?after=" + meta.content : "";
    const source = new EventSource("/api/v1/events/stream" + after);
    source.addEventListener("open", function () {
      setStatus("Live");
    });
    source.addEventListener("error", function () {
      // EventSource retries on its own (the server asks for 3 s); say so meanwhile.
      setStatus(source.readyState === EventSource.CLOSED ? "Not live: reload the page" :
                                                           "Reconnecting…");
    });
    source.addEventListener("change", function (e) {
      let m;
      try {
        m = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      if (typeof m.kind !== "string" || typeof m.id !== "string") return;
      queue("live-change");
      queue("live-" + m.kind);
      if (m.id !== "") queue("live-" + m.kind + "-" + m.id);
    });
    source.addEventListener("reset", function () {
      queue("live-reset");
      queue("live-change");
    });
    source.addEventListener("signed-out", function () {
      source.close();
      setStatus("Signed out");
      const next = window.location.pathname + window.location.search;
      window.location.assign("/signin?next=" + encodeURIComponent(next));
    });
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  // An action's answer (a form that posts through htmx) replaces the button that was pressed:
  // when focus fell back to the page, put it on the notice that says what happened, so a
  // keyboard or screen reader user stays where the change is.
  document.addEventListener("htmx:afterSettle", function (e) {
    const form = e.detail && e.detail.requestConfig && e.detail.requestConfig.elt;
    if (!form || form.tagName !== "FORM") return;
    if (document.activeElement && document.activeElement !== document.body) return;
    const notice = document.querySelector("#vm-notice [role]");
    if (!notice) return;
    notice.setAttribute("tabindex", "-1");
    notice.focus();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", open);
  } else {
    open();
  }
})();
