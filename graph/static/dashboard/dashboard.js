// credgraph's reference compliance dashboard: one page, served by the server itself, that
// polls /graphql and shows an organization's compliance at a glance. No library, no build
// step, no inline script (the page's Content-Security-Policy allows only scripts from the
// server); the DOM is built with textContent, never from HTML strings.
//
// The token arrives in the URL fragment (/dashboard#token=…&every=2), which browsers never
// send to the server; it is kept in this tab's sessionStorage and leaves the address bar at
// once. Each poll sends the last ETag as If-None-Match: an unchanged answer is a 304 and the
// page stays as it is. While the server is unavailable the last answer stays on screen.
"use strict";

(() => {
  const TOKEN_KEY = "credgraph.dashboard.token";
  const MAX_EVERY = 3600; // an hour: beyond, browsers' timers overflow
  const EVERY_KEY = "credgraph.dashboard.every";
  const DEFAULT_EVERY = 5; // seconds between polls
  const MIN_EVERY = 1;
  const MAX_BACKOFF = 60; // seconds: the longest wait between retries without Retry-After
  const MAX_RETRY_AFTER = 600;
  const TIMEOUT = 15; // seconds before a poll that hangs counts as a failure
  const HORIZON_DAYS = 60;
  const OVERDUE_SHOWN = 20;
  const STATUSES = [
    ["completed", "completed"],
    ["inProgress", "in progress"],
    ["notStarted", "not started"],
    ["notYetAvailable", "not yet available"],
    ["overdue", "overdue"],
    ["expired", "expired"],
  ];
  const FIGURES = [
    "total",
    ...STATUSES.map(([field]) => field),
    "expiringSoon",
    "dueSoon",
    "pendingRecords",
  ];
  // No `me` in the polled query: a query that names its caller is answered per person, one
  // without it once for every administrator of the organization. The name is asked once.
  const NAME = "query Organization { organization { name } }";
  const QUERY = `query Dashboard {
  complianceSummary(expiringWithin: {amount: ${HORIZON_DAYS}, unit: DAY}) {
    total notYetAvailable notStarted inProgress completed overdue expired
    expiringSoon dueSoon pendingRecords
  }
  assignments(status: OVERDUE, current: true, orderBy: {field: DUE_DATE}, first: ${OVERDUE_SHOWN}) {
    totalCount
    edges { node { id learner { name } credential { name } dueDate } }
  }
}`;
  const BODY = JSON.stringify({ query: QUERY, operationName: "Dashboard", variables: {} });

  const $ = (id) => document.getElementById(id);
  const numbers = new Intl.NumberFormat();
  const dates = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
  const times = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

  // The fragment: read it, keep the token in this tab, and take it out of the address bar.
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  if (fragment.has("token")) {
    const given = fragment.get("token").trim().replace(/^Bearer\s+/i, "");
    if (given) sessionStorage.setItem(TOKEN_KEY, given);
    else sessionStorage.removeItem(TOKEN_KEY);
    fragment.delete("token");
  }
  if (fragment.has("every")) {
    const asked = Number.parseFloat(fragment.get("every"));
    if (Number.isFinite(asked)) sessionStorage.setItem(EVERY_KEY, String(asked));
  }
  if (window.location.hash) {
    const rest = fragment.toString();
    history.replaceState(
      null,
      "",
      window.location.pathname + window.location.search + (rest ? `#${rest}` : ""),
    );
  }
  const kept = Number.parseFloat(sessionStorage.getItem(EVERY_KEY));
  const every = Math.min(
    MAX_EVERY,
    Math.max(MIN_EVERY, Number.isFinite(kept) ? kept : DEFAULT_EVERY),
  );

  // A new fragment in the same tab (another token pasted in) is read as a fresh start would.
  window.addEventListener("hashchange", () => {
    const changed = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    if (changed.has("token") || changed.has("every")) window.location.reload();
  });

  let token = sessionStorage.getItem(TOKEN_KEY);
  let etag = null;
  let shown = null; // the JSON of the data on screen
  let failures = 0;
  let timer = null;
  let polling = false;
  let lastGood = null;

  // ---- showing -------------------------------------------------------------------------

  function setConnection(state, text) {
    const status = $("connection"); // a live region: changed only when it has news
    status.dataset.state = state;
    if (status.textContent !== text) status.textContent = text;
    document.body.dataset.connection = state;
  }

  function showTime(element, when) {
    element.dateTime = when.toISOString();
    element.textContent = times.format(when);
    element.title = when.toString();
  }

  function signIn(reason) {
    $("signin").hidden = false;
    $("signin-example").textContent = `${window.location.origin}/dashboard#token=…`;
    if (reason) setConnection("unauthenticated", reason);
    else setConnection("signed-out", "Not signed in");
  }

  function daysBetween(earlier, later) {
    return Math.floor((later - earlier) / 86_400_000);
  }

  function overdueRow(node, now) {
    const row = document.createElement("tr");
    const learner = document.createElement("td");
    learner.textContent = node.learner.name;
    const credential = document.createElement("td");
    credential.textContent = node.credential.name;
    const due = document.createElement("td");
    const when = new Date(node.dueDate);
    const time = document.createElement("time");
    time.dateTime = node.dueDate;
    time.textContent = dates.format(when);
    time.title = when.toString();
    due.append(time);
    const late = daysBetween(when, now);
    if (late >= 1) {
      const age = document.createElement("span");
      age.className = "age";
      age.textContent = late === 1 ? "1 day late" : `${numbers.format(late)} days late`;
      due.append(" ", age);
    }
    row.append(learner, credential, due);
    return row;
  }

  async function showName() {
    let organization = null;
    try {
      const response = await fetch("/graphql", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ query: NAME, operationName: "Organization" }),
      });
      organization = (await response.json())?.data?.organization?.name;
    } catch {
      return; // the heading stays plain; the figures do not depend on it
    }
    if (!organization) return;
    $("organization").textContent = ` · ${organization}`;
    document.title = `${organization} · compliance · credgraph`;
  }

  function render(answer) {
    const summary = answer.complianceSummary;

    for (const field of FIGURES) {
      for (const element of document.querySelectorAll(`[data-field="${field}"]`)) {
        element.textContent = numbers.format(summary[field]);
      }
    }

    const bar = $("bar");
    const parts = [];
    bar.replaceChildren();
    for (const [field, label] of STATUSES) {
      const count = summary[field];
      if (count <= 0) continue;
      const segment = document.createElement("div");
      segment.className = `segment s-${field}`;
      segment.style.flexGrow = String(count); // CSSOM, which a style-src policy allows
      segment.title = `${numbers.format(count)} ${label}`;
      const share = summary.total ? count / summary.total : 0;
      if (share >= 0.06) segment.textContent = numbers.format(count);
      bar.append(segment);
      parts.push(`${numbers.format(count)} ${label}`);
    }
    bar.setAttribute(
      "aria-label",
      summary.total
        ? `${numbers.format(summary.total)} assigned: ${parts.join(", ")}`
        : "Nothing assigned yet",
    );
    $("empty-chart").hidden = summary.total > 0;

    const overdue = answer.assignments;
    const now = new Date();
    $("overdue-rows").replaceChildren(...overdue.edges.map(({ node }) => overdueRow(node, now)));
    $("overdue-count").textContent = overdue.totalCount ? numbers.format(overdue.totalCount) : "";
    $("overdue-empty").hidden = overdue.totalCount > 0;
    $("overdue-list").hidden = overdue.totalCount === 0;
    const more = overdue.totalCount - overdue.edges.length;
    $("overdue-more").hidden = more <= 0;
    $("overdue-more").textContent =
      more > 0 ? `and ${numbers.format(more)} more (the ${OVERDUE_SHOWN} longest overdue shown)` : "";

    $("board").hidden = false;
    $("times").hidden = false;
  }

  // ---- polling -------------------------------------------------------------------------

  function retryAfter(response) {
    const value = response.headers.get("Retry-After");
    if (!value) return null;
    let seconds = Number(value);
    if (!Number.isFinite(seconds)) {
      const at = Date.parse(value);
      if (Number.isNaN(at)) return null;
      seconds = (at - Date.now()) / 1000;
    }
    return Math.min(MAX_RETRY_AFTER, Math.max(MIN_EVERY, seconds));
  }

  function schedule(seconds) {
    clearTimeout(timer);
    timer = setTimeout(poll, seconds * 1000);
  }

  function unavailable(why, wait) {
    failures += 1;
    const seconds = wait ?? Math.min(Math.max(every, MAX_BACKOFF), every * 2 ** (failures - 1));
    const since = lastGood ? ` Showing the answer from ${times.format(lastGood)}.` : "";
    setConnection(
      "unavailable",
      `Server unavailable (${why}) — retrying in ${numbers.format(Math.round(seconds))} s.${since}`,
    );
    schedule(seconds);
  }

  function codes(body) {
    return (body?.errors ?? []).map((error) => error?.extensions?.code);
  }

  function rejected(message) {
    clearTimeout(timer);
    timer = null;
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    signIn(message);
  }

  async function poll() {
    if (polling || !token) return;
    polling = true;
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(), Math.max(TIMEOUT, every) * 1000);
    const headers = {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
    };
    if (etag) headers["If-None-Match"] = etag;
    let response;
    let body = null;
    try {
      response = await fetch("/graphql", {
        method: "POST",
        headers,
        body: BODY,
        cache: "no-store",
        credentials: "omit",
        signal: abort.signal,
      });
      if (response.status !== 304) body = await response.json().catch(() => null);
    } catch (error) {
      unavailable(error.name === "AbortError" ? "no answer in time" : "network error");
      return;
    } finally {
      clearTimeout(deadline);
      polling = false;
    }
    const checked = new Date();
    const found = codes(body);

    if (response.status === 401 || found.includes("UNAUTHENTICATED")) {
      const why = body?.errors?.[0]?.message;
      rejected(
        `The token is invalid or expired${why ? ` (${why})` : ""}. Print a new one with ` +
          "credgraph token EMAIL and open /dashboard#token=…",
      );
      return;
    }
    if (response.status === 503 || response.status === 429 || response.status >= 500) {
      unavailable(`HTTP ${response.status}`, retryAfter(response));
      return;
    }
    if (response.status === 304) {
      failures = 0;
      lastGood = checked;
      showTime($("checked"), checked);
      setConnection("live", `Live · checked every ${numbers.format(every)} s`);
      schedule(every);
      return;
    }
    if (found.includes("FORBIDDEN")) {
      rejected(
        "This token is not an administrator's: the dashboard shows an organization's " +
          "compliance to its administrators.",
      );
      return;
    }
    if (!response.ok || !body?.data?.complianceSummary) {
      const message = body?.errors?.[0]?.message ?? `HTTP ${response.status}`;
      failures += 1;
      setConnection("error", `The server refused the query: ${message} — retrying in ${every} s.`);
      schedule(every);
      return;
    }

    failures = 0;
    lastGood = checked;
    etag = response.headers.get("ETag") || null;
    const fingerprint = JSON.stringify(body.data);
    if (fingerprint !== shown) {
      shown = fingerprint;
      render(body.data);
      showTime($("changed"), checked);
      $("board").dataset.renders = String(Number($("board").dataset.renders || 0) + 1);
    }
    showTime($("checked"), checked);
    setConnection("live", `Live · checked every ${numbers.format(every)} s`);
    schedule(every);
  }

  // A tab brought back to the front (timers sleep in background tabs) checks at once.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && token && !polling) {
      clearTimeout(timer);
      poll();
    }
  });

  if (token) {
    $("signin").hidden = true;
    setConnection("starting", "Connecting…");
    showName();
    poll();
  } else {
    signIn(null);
  }
})();
