/**
 * @module
 * The console's one script, served at `/console/app.js` with the Worker (no build step, no
 * framework). It keeps the key in the tab's sessionStorage only, calls the JSON API with
 * `Authorization: Bearer`, and builds every element with text nodes (never HTML from data). Views
 * by URL hash: key entry, a product's sessions (parked first, polled every 5 s), one session
 * (numbers, steps and breaker, context, timeline; polled every 2 s) with the confirmed admin
 * actions. Kept as text so the Worker serves it byte for byte.
 */
export const CONSOLE_SCRIPT = String.raw`"use strict";
(function () {
  var KEY = "relay.key";
  var PRODUCT = "relay.product";
  var POLL_LIST_MS = 5000;
  var POLL_SESSION_MS = 2000;
  var timer = null;
  var main, nav, statusLine;

  // Every string from the API goes through text nodes: nothing is ever parsed as HTML.
  function h(tag, attrs) {
    var el = document.createElement(tag);
    for (var name in attrs || {}) {
      var v = attrs[name];
      if (v === null || v === undefined || v === false) continue;
      if (name === "onclick" || name === "onsubmit" || name === "onchange") el.addEventListener(name.slice(2), v);
      else el.setAttribute(name, v === true ? "" : String(v));
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(el, c); });
    else el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function replace(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    for (var i = 1; i < arguments.length; i++) append(el, arguments[i]);
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : "–"; }
  function key() { return sessionStorage.getItem(KEY); }
  function say(text) { statusLine.textContent = text; }

  function api(method, path, body) {
    var init = { method: method, headers: { authorization: "Bearer " + key() } };
    if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (res.ok) return data;
        var err = new Error((data && data.error && data.error.message) || res.statusText);
        err.status = res.status;
        err.code = data && data.error && data.error.code;
        throw err;
      });
    });
  }
  function refusal(err) {
    if (err.status === 403) return "Refused (403 " + (err.code || "out_of_scope") + "): " + err.message + ". Admin actions need a key with the admin scope.";
    if (err.status === 401) return "Your key was refused (401): " + err.message;
    return "Failed" + (err.status ? " (" + err.status + ")" : "") + ": " + err.message;
  }
  function productPath(p) { return "/v1/products/" + encodeURIComponent(p); }
  function sessionPath(p, s) { return productPath(p) + "/sessions/" + encodeURIComponent(s); }

  function route() {
    if (timer) { clearTimeout(timer); timer = null; }
    var parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    renderNav();
    if (!key()) return keyView();
    if (parts[0] === "p" && parts[1] && parts[2] === "s" && parts[3]) return sessionView(parts[1], parts[3]);
    if (parts[0] === "p" && parts[1]) return listView(parts[1]);
    var last = sessionStorage.getItem(PRODUCT);
    if (last) { location.hash = "#/p/" + encodeURIComponent(last); return; }
    return keyView();
  }

  function renderNav() {
    if (!key()) return replace(nav);
    var product = h("input", { id: "nav-product", name: "product", required: true, value: sessionStorage.getItem(PRODUCT) || "", autocomplete: "off" });
    replace(nav,
      h("form", { onsubmit: function (e) { e.preventDefault(); openProduct(product.value.trim()); } },
        h("label", { for: "nav-product" }, "Product", product), h("button", { type: "submit" }, "Open")),
      h("button", { type: "button", onclick: function () { sessionStorage.removeItem(KEY); location.hash = "#/"; route(); } }, "Forget key"));
  }
  function openProduct(p) {
    if (!p) return;
    sessionStorage.setItem(PRODUCT, p);
    location.hash = "#/p/" + encodeURIComponent(p);
  }

  function keyView() {
    var k = h("input", { id: "key", name: "key", type: "password", required: true, autocomplete: "off" });
    var p = h("input", { id: "product", name: "product", required: true, autocomplete: "off", value: sessionStorage.getItem(PRODUCT) || "" });
    replace(main,
      h("h2", null, "Enter a key"),
      h("p", null, "A read key looks; an admin key can also flush, relink and erase. The key stays in this tab only (sessionStorage) and is sent as a bearer token to the API."),
      h("form", { onsubmit: function (e) {
        e.preventDefault();
        sessionStorage.setItem(KEY, k.value.trim());
        openProduct(p.value.trim());
        route();
      } },
        h("label", { for: "key" }, "API key", k),
        h("label", { for: "product" }, "Product id", p),
        h("button", { type: "submit" }, "Open console")));
    k.focus();
  }

  var STATUSES = ["", "parked", "active", "linked", "idle"];
  function listView(product) {
    var q = new URLSearchParams(location.hash.split("?")[1] || "");
    var status = h("select", { id: "f-status", name: "status" }, STATUSES.map(function (s) {
      return h("option", { value: s, selected: q.get("status") === s || (!q.get("status") && !s) }, s || "any");
    }));
    var user = h("input", { id: "f-user", name: "user", value: q.get("user") || "", autocomplete: "off" });
    var body = h("div", { id: "sessions" }, h("p", { class: "muted" }, "Loading…"));
    replace(main,
      h("h2", null, "Sessions of ", h("code", null, product)),
      h("form", { onsubmit: function (e) {
        e.preventDefault();
        var next = new URLSearchParams();
        if (status.value) next.set("status", status.value);
        if (user.value.trim()) next.set("user", user.value.trim());
        location.hash = "#/p/" + encodeURIComponent(product) + (next.toString() ? "?" + next.toString() : "");
      } },
        h("label", { for: "f-status" }, "Status", status),
        h("label", { for: "f-user" }, "User id", user),
        h("button", { type: "submit" }, "Filter")),
      body);
    var query = new URLSearchParams({ limit: "200" });
    if (q.get("status")) query.set("status", q.get("status"));
    var path = q.get("user") ? productPath(product) + "/users/" + encodeURIComponent(q.get("user")) + "/sessions" : productPath(product) + "/sessions";
    function load() {
      api("GET", path + "?" + query.toString()).then(function (page) {
        // Parked first (someone must look), then newest activity as the index lists them.
        var rows = page.sessions.slice().sort(function (a, b) { return (b.status === "parked") - (a.status === "parked"); });
        replace(body, rows.length === 0 ? h("p", null, "No sessions match.") : sessionTable(product, rows));
        say("Sessions updated " + new Date().toLocaleTimeString() + " (every " + POLL_LIST_MS / 1000 + " s)");
        timer = setTimeout(load, POLL_LIST_MS);
      }, function (err) { replace(body, h("p", { class: "error", role: "alert" }, refusal(err))); });
    }
    load();
  }
  function sessionTable(product, rows) {
    return h("div", { class: "scroll", tabindex: 0, role: "region", "aria-label": "Sessions" },
      h("table", null,
        h("thead", null, h("tr", null, ["Session", "Status", "User", "Last activity", "Actions", "Notes", "Summaries", "Redactions", "Step in trouble"].map(function (t) { return h("th", { scope: "col" }, t); }))),
        h("tbody", null, rows.map(function (s) {
          return h("tr", { class: s.status === "parked" ? "parked" : null, "data-session": s.session_id },
            h("td", null, h("a", { href: "#/p/" + encodeURIComponent(product) + "/s/" + encodeURIComponent(s.session_id) }, s.session_id)),
            h("td", null, h("span", { class: "badge " + s.status }, s.status)),
            h("td", null, s.user_id || "–"),
            h("td", null, when(s.last_activity_at)),
            h("td", null, s.counts.actions),
            h("td", null, s.counts.raw_notes),
            h("td", null, s.counts.summaries),
            h("td", null, s.counts.redactions),
            h("td", null, s.step ? stepText(s.step) : "–"));
        }))));
  }
  function stepText(step) {
    return [step.kind + " (" + step.key + "), " + step.attempts + " attempt" + (step.attempts === 1 ? "" : "s") + (step.parked ? ", parked" : ""),
      step.last_error ? h("div", { class: "error" }, step.last_error) : null];
  }

  function sessionView(product, session) {
    var data = h("div", { id: "session-data" }, h("p", { class: "muted" }, "Loading…"));
    var result = h("p", { id: "action-result", role: "alert" });
    var conv = h("input", { id: "conversation", name: "conversation", autocomplete: "off" });
    function act(label, method, path, body, after) {
      if (!confirm(label + " session " + session + "?")) return;
      api(method, path, body).then(function () {
        result.className = "";
        result.textContent = label + ": done.";
        if (after) after(); else load();
      }, function (err) { result.className = "error"; result.textContent = refusal(err); });
    }
    var base = sessionPath(product, session);
    replace(main,
      h("p", null, h("a", { href: "#/p/" + encodeURIComponent(product) }, "← Sessions of " + product)),
      h("h2", null, "Session ", h("code", null, session)),
      h("section", { "aria-labelledby": "actions-h" },
        h("h3", { id: "actions-h" }, "Actions (admin key)"),
        h("form", { onsubmit: function (e) { e.preventDefault(); } },
          h("button", { type: "button", id: "flush", onclick: function () { act("Flush", "POST", base + "/flush"); } }, "Flush (summarise now, retry parked steps)"),
          h("label", { for: "conversation" }, "Conversation id", conv),
          h("button", { type: "button", id: "relink", onclick: function () {
            if (!conv.value.trim()) { result.className = "error"; result.textContent = "Relink: enter a conversation id first."; conv.focus(); return; }
            act("Relink", "PUT", base + "/link", { conversation_id: conv.value.trim() });
          } }, "Relink"),
          h("button", { type: "button", id: "erase", class: "danger", onclick: function () {
            act("Erase", "DELETE", base, undefined, function () { location.hash = "#/p/" + encodeURIComponent(product); });
          } }, "Erase")),
        result),
      data);
    function load() {
      Promise.all([api("GET", base), api("GET", base + "/context"), api("GET", base + "/timeline")]).then(function (r) {
        replace(data, sessionData(r[0], r[1], r[2]));
        say("Session updated " + new Date().toLocaleTimeString() + " (every " + POLL_SESSION_MS / 1000 + " s)");
        timer = setTimeout(load, POLL_SESSION_MS);
      }, function (err) {
        replace(data, h("p", { class: "error", role: "alert" }, refusal(err)));
        if (err.status !== 404 && err.status !== 401 && err.status !== 403) timer = setTimeout(load, POLL_SESSION_MS);
      });
    }
    load();
  }

  function sessionData(state, context, timeline) {
    var c = state.counters;
    var numbers = [["Actions", c.actions_accepted], ["Batches", c.batches_accepted], ["Notes live", state.notes.length], ["Summaries", c.summaries],
      ["Redactions", c.redactions], ["LLM calls", c.llm_calls], ["LLM failures", c.llm_failures], ["Step failures", c.step_failures],
      ["Pending actions", state.pending.actions], ["Storage rows", state.storage.rows]];
    var trouble = timeline.steps.filter(function (s) { return s.attempts > 0 || s.parked; });
    var b = timeline.llm_breaker;
    return [
      h("ul", { class: "numbers", "aria-label": "Numbers" }, numbers.map(function (n) { return h("li", null, n[0], h("b", null, n[1])); })),
      h("p", null, "Destination ", h("code", null, state.destination), ", lanes: ",
        timeline.lanes.length ? timeline.lanes.map(function (l) { return "#" + l.id + " " + l.destination + " (covered through window " + l.covered_through + ")"; }).join("; ") : "none (the store: the session's own rows)",
        ". Link: ", state.link ? state.link.conversation_id : "none", ". Last action ", when(state.last_action_at), "."),
      h("h3", null, "Steps and breaker"),
      trouble.length === 0 ? h("p", null, "No step in trouble.") : h("div", { class: "trouble", id: "trouble" }, trouble.map(function (s) {
        return h("p", null, h("b", null, s.kind), " ", h("code", null, s.key), ": ", s.attempts + " attempt" + (s.attempts === 1 ? "" : "s"),
          s.parked ? " — parked (flush retries it)" : " — next retry " + when(s.next_attempt_at),
          s.last_error ? h("span", { class: "error" }, " " + s.last_error) : null);
      })),
      h("p", null, "LLM breaker: ", b ? b.state + " (" + b.failures + " failure" + (b.failures === 1 ? "" : "s") + (b.open_until ? ", until " + when(b.open_until) : "") + ")" : "none (extractive summariser)"),
      h("h3", null, "Context, as the agent reads it"),
      h("pre", { id: "context", tabindex: 0, "aria-label": "Context" }, context.context || "(empty)"),
      h("h3", null, "Timeline"),
      timeline.events.length === 0 ? h("p", null, "Nothing stored.") : h("ol", { class: "timeline", id: "timeline" }, timeline.events.map(eventItem)),
    ];
  }
  function windowsText(w) { return w.from === w.to ? "window " + w.to : "windows " + w.from + "–" + w.to; }
  function eventItem(e) {
    var at = h("span", { class: "muted" }, when(e.at) + " · ");
    if (e.type === "batch") {
      return h("li", { class: "ev batch" }, at, "Batch " + e.seq + " (window " + e.window + "), " + e.actions.length + " action" + (e.actions.length === 1 ? "" : "s"),
        e.notes.length ? " — in raw note " + e.notes.map(function (n) { return "lane " + n.lane + ": " + (n.part_id || "not posted yet"); }).join(", ") : " — not sent yet",
        h("ul", null, e.actions.map(function (a) { return h("li", { class: "action" }, "[" + a.index + "] " + a.type + " ", h("b", null, a.title), a.description ? " — " + a.description : "", a.url ? " (" + a.url + ")" : ""); })));
    }
    if (e.type === "note") {
      return h("li", { class: "ev note" }, at, (e.kind === "raw" ? "Raw" : "Summary") + " note, window " + e.window + ", lane " + e.lane + " (" + e.destination + "): ",
        e.posted ? ["part id ", h("code", null, e.part_id)] : "not posted yet");
    }
    if (e.type === "summary") {
      return h("li", { class: "ev summary", "data-window": e.window }, at, "Summary of " + windowsText(e.covers) + " (" + e.actions + " action" + (e.actions === 1 ? "" : "s") + (e.extractive ? ", extractive" : "") + ")" + (e.posted_at ? ", posted " + when(e.posted_at) : ", not posted yet"),
        h("pre", null, e.text));
    }
    return h("li", { class: "ev redaction" }, at, h("del", null, "Raw notes of " + windowsText(e.windows) + " in lane " + e.lane + " (" + e.destination + ")"),
      " redacted: replaced by the summary of window " + e.replaced_by);
  }

  document.addEventListener("DOMContentLoaded", function () {
    main = document.getElementById("main");
    nav = document.getElementById("nav");
    statusLine = document.getElementById("status");
    window.addEventListener("hashchange", route);
    route();
  });
})();
`;
