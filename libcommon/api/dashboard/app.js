// The OOS dashboard (docs/reference.md section 8.10): polls the API every 5 s while the tab is visible, with
// If-None-Match so that an idle poll is a 304. Every value from the server is shown with textContent (task
// payloads and errors are hostile input); nothing is built from HTML strings.
"use strict";

const POLL_MS = 5000;
const TOKEN_KEY = "oos-token";
const WRITE_HINT = "set OOS_API_TOKEN to act from here (then sign in with it)";

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  view: "overview",
  arg: "",
  timer: 0,
  cache: new Map(), // url -> {etag, data}
  task: null,
  needToken: false,
};

// The server could not be reached (fetch rejected): shown, retried at the next poll, not a bug.
class NetworkError extends Error {}

// fetch() with its rejection (no connection) as a NetworkError, so that a script error is never mistaken for one.
async function request(url, options) {
  try {
    return await fetch(url, options);
  } catch (e) {
    throw new NetworkError(String(e));
  }
}

class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

// ---- helpers ----------------------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  if (props.cls) node.className = props.cls;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  if (props.title) node.title = props.title;
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d}d${h}h`;
  if (h) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

function sinceIso(iso) {
  if (!iso) return "-";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${age((Date.now() - t) / 1000)} ago`;
}

function localTime(iso) {
  if (!iso) return "-";
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? iso : t.toLocaleString();
}

function toast(message, isError = false) {
  const box = $("toast");
  box.textContent = message;
  box.className = isError ? "error" : "";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, isError ? 10000 : 5000);
}

function authHeaders() {
  return state.token ? { Authorization: `Bearer ${state.token}` } : {};
}

async function problemDetail(response) {
  try {
    const doc = await response.json();
    return doc.detail || doc.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

// ---- the API ----------------------------------------------------------------------------------------------

// GET `url` as JSON; a 304 answers from the copy kept with its ETag. `accept` lists statuses whose body is the
// document too (GET /health is 503 when CRITICAL).
async function get(url, accept = []) {
  const cached = state.cache.get(url);
  const headers = authHeaders();
  if (cached && cached.etag) headers["If-None-Match"] = cached.etag;
  const response = await request(url, { headers, cache: "no-store" });
  if (response.status === 304 && cached) return cached.data;
  if (response.status === 401) {
    askForToken();
    throw new ApiError(401, await problemDetail(response));
  }
  if (!response.ok && !accept.includes(response.status)) throw new ApiError(response.status, await problemDetail(response));
  const data = await response.json();
  state.cache.set(url, { etag: response.headers.get("ETag"), data });
  return data;
}

// The CSRF token for the next write (new each time oos-api starts: asked before every write).
async function csrfToken() {
  const response = await request("/api/v1/csrf", { headers: authHeaders(), cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
  return (await response.json()).csrf_token;
}

async function post(url, body) {
  if (!state.token) throw new ApiError(403, WRITE_HINT);
  const headers = { ...authHeaders(), "Content-Type": "application/json", "X-CSRF-Token": await csrfToken() };
  const response = await request(url, { method: "POST", headers, body: JSON.stringify(body || {}), cache: "no-store" });
  if (response.status === 401) askForToken();
  if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
  return response.json();
}

// A write from a button: disables it while it runs, tells the outcome (`describe` of the reply, or "done"), polls
// again.
async function act(button, what, run, describe = () => "done") {
  button.disabled = true;
  try {
    toast(`${what}: ${describe(await run())}`);
  } catch (e) {
    toast(`${what}: ${e.message}`, true);
    if (!(e instanceof ApiError) && !(e instanceof NetworkError)) console.error(e);
  } finally {
    button.disabled = false;
    poll();
  }
}

// ---- token ------------------------------------------------------------------------------------------------

function askForToken() {
  state.needToken = true;
  $("token-form").hidden = false;
  $("token-input").focus();
}

function setToken(token) {
  state.token = token;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  state.cache.clear();
  state.needToken = false;
  $("token-form").hidden = true;
  renderSession();
  poll();
}

function renderSession() {
  $("signin").hidden = !!state.token;
  $("signout").hidden = !state.token;
  $("write-hint").hidden = !!state.token;
  for (const button of document.querySelectorAll("[data-write]")) {
    button.disabled = !state.token;
    button.title = state.token ? "" : WRITE_HINT;
  }
}

// ---- views ------------------------------------------------------------------------------------------------

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#/, "")) || "overview";
  const slash = hash.indexOf("/");
  state.view = slash < 0 ? hash : hash.slice(0, slash);
  state.arg = slash < 0 ? "" : hash.slice(slash + 1);
  if (!["overview", "dead", "task", "workers", "system"].includes(state.view)) state.view = "overview";
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${state.view}`;
  for (const link of document.querySelectorAll("#nav a"))
    link.classList.toggle("active", link.dataset.view === state.view || (state.view === "task" && link.dataset.view === "dead"));
  if (state.view === "dead" && state.arg) $("dead-queue").value = state.arg;
  $("bulk-confirm").hidden = true;
  poll();
}

function renderVerdict(health) {
  const status = (health.status || "UNKNOWN").toLowerCase();
  $("verdict").className = `verdict ${status}`;
  $("verdict-status").textContent = health.status;
  const bad = (health.checks || []).filter((c) => c.status !== "OK");
  $("verdict-summary").textContent = bad.length === 0
    ? "Nothing is wrong: every check is OK."
    : `${bad.length} check${bad.length > 1 ? "s need" : " needs"} attention:`;
  const list = $("problems");
  list.replaceChildren();
  const rank = { CRITICAL: 0, UNKNOWN: 1, WARNING: 2 };
  bad.sort((a, b) => (rank[a.status] ?? 3) - (rank[b.status] ?? 3));
  for (const check of bad)
    list.append(el("li", {}, [el("span", { cls: `status-${check.status}`, text: `${check.status} ` }),
      el("strong", { text: `${check.name}: ` }), el("span", { text: check.message })]));
}

function queueButton(label, cls, handler, title = "") {
  const button = el("button", { text: label, cls, attrs: { type: "button", "data-write": "" }, title });
  button.addEventListener("click", () => handler(button));
  return button;
}

function renderQueues(queues) {
  const body = document.querySelector("#queues tbody");
  body.replaceChildren();
  $("queues-empty").hidden = queues.length > 0;
  for (const q of queues) {
    const name = q.name;
    const path = `/api/v1/queue/${encodeURIComponent(name)}`;
    const breaker = q.breaker.state;
    const breakerCell = el("td", { cls: "breaker" }, [
      el("span", { cls: `badge ${breaker === "closed" ? "ok" : breaker === "open" ? "critical" : "warning"}`, text: breaker }),
    ]);
    if (breaker !== "closed")
      breakerCell.append(" ", el("span", { cls: "muted", text: `${q.breaker.consecutive_failures} failures` }));
    const actions = el("td", { cls: "actions" }, [
      q.paused
        ? queueButton("Resume", "resume", (b) => act(b, `resume ${name}`, () => post(`${path}/resume`)))
        : queueButton("Pause", "pause", (b) => act(b, `pause ${name}`, () => post(`${path}/pause`))),
    ]);
    if (breaker !== "closed")
      actions.append(queueButton("Reset breaker", "reset-breaker",
        (b) => act(b, `reset the breaker of ${name}`, () => post(`${path}/circuit-breaker/reset`))));
    const dead = el("td", { cls: "num dead" });
    if (q.dead > 0) dead.append(el("a", { text: q.dead, attrs: { href: `#dead/${encodeURIComponent(name)}` } }));
    else dead.textContent = "0";
    const row = el("tr", { attrs: { "data-queue": name } }, [
      el("td", { cls: "name" }, [el("strong", { text: name }),
        ...(q.alerts || []).map((a) => el("div", { cls: "muted", text: a }))]),
      el("td", { cls: "num runnable", text: q.runnable }),
      el("td", { cls: "num pending", text: q.pending }),
      el("td", { cls: "num retrying", text: q.retrying }),
      el("td", { cls: "num running", text: q.running }),
      dead,
      el("td", { cls: "num succeeded", text: q.succeeded }),
      el("td", { cls: "oldest", text: age(q.oldest_pending_age_seconds) }),
      el("td", { cls: "paused" }, [el("span", { cls: `badge ${q.paused ? "warning" : "ok"}`, text: q.paused ? "paused" : "active" })]),
      breakerCell,
      actions,
    ]);
    body.append(row);
  }
  fillQueueSelect($("activity-queue"), queues, true);
  fillQueueSelect($("dead-queue"), queues, false);
}

function fillQueueSelect(select, queues, withAll) {
  const names = queues.map((q) => q.name);
  const have = [...select.options].map((o) => o.value).filter((v) => v !== "");
  if (have.join("\n") === names.join("\n")) return;
  const current = select.value;
  select.replaceChildren();
  if (withAll) select.append(el("option", { text: "all", attrs: { value: "" } }));
  for (const name of names) select.append(el("option", { text: name, attrs: { value: name } }));
  if (names.includes(current) || (withAll && current === "")) select.value = current;
  else if (!withAll && state.view === "dead" && names.includes(state.arg)) select.value = state.arg;
  else if (!withAll) {
    const withDead = queues.find((q) => q.dead > 0);
    if (withDead) select.value = withDead.name;
  }
}

function renderChart(activity) {
  const range = document.querySelector("input[name=range]:checked").value;
  const buckets = activity[range] || [];
  const chart = $("chart");
  chart.replaceChildren();
  // The drawing is in the chart's own pixels, so that its text is not stretched.
  const width = Math.max(240, Math.round(chart.getBoundingClientRect().width) || 720), height = 180, bottom = 18, top = 14;
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const max = Math.max(1, ...buckets.map((b) => b.runs));
  const step = width / Math.max(1, buckets.length);
  const scale = (n) => (n / max) * (height - bottom - top);
  let runs = 0, failures = 0;
  buckets.forEach((b, i) => {
    runs += b.runs;
    failures += b.failures;
    const x = i * step + 1;
    const w = Math.max(1, step - 2);
    const group = svg("g");
    const title = svg("title");
    title.textContent = `${localTime(b.start)}: ${b.runs} runs, ${b.failures} failures`;
    group.append(title);
    group.append(svg("rect", { class: "runs", x, y: height - bottom - scale(b.runs), width: w, height: scale(b.runs) }));
    if (b.failures > 0)
      group.append(svg("rect", { class: "failures", x, y: height - bottom - scale(b.failures), width: w, height: scale(b.failures) }));
    chart.append(group);
  });
  chart.append(svg("line", { class: "axis", x1: 0, y1: height - bottom, x2: width, y2: height - bottom }));
  const label = (x, text, anchor) => {
    const t = svg("text", { x, y: height - 4, "text-anchor": anchor });
    t.textContent = text;
    chart.append(t);
  };
  if (buckets.length > 0) {
    const fmt = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    label(2, fmt(buckets[0].start), "start");
    label(width - 2, "now", "end");
  }
  const peak = svg("text", { x: 2, y: 11, "text-anchor": "start" });
  peak.textContent = `${max} per ${range === "minutes" ? "minute" : "hour"}`;
  chart.append(peak);
  $("chart-total").textContent = ` · ${runs} runs, ${failures} failures in the last ${range === "minutes" ? "hour" : "day"}`;
}

function deadUrl() {
  const queue = $("dead-queue").value;
  if (!queue) return "";
  const params = new URLSearchParams({ limit: "200" });
  const error = $("dead-error").value;
  if (error) params.set("error", error);
  return `/api/v1/queue/${encodeURIComponent(queue)}/dead-letter?${params}`;
}

// The rows as the server filtered them (?error= of deadUrl()).
function renderDead(rows) {
  const body = document.querySelector("#dead tbody");
  body.replaceChildren();
  $("dead-empty").hidden = rows.length > 0;
  for (const t of rows) {
    const row = el("tr", { cls: "clickable", attrs: { "data-task": String(t.id) } }, [
      el("td", {}, [el("a", { text: `#${t.id}`, attrs: { href: `#task/${t.id}` } })]),
      el("td", { text: t.type }),
      el("td", { cls: "num", text: `${t.attempts}/${t.max_attempts}` }),
      el("td", { text: sinceIso(t.finished_at) }),
      el("td", { cls: "error-cell", text: t.last_error || "", title: t.last_error || "" }),
    ]);
    row.addEventListener("click", (e) => {
      if (e.target.tagName !== "A") location.hash = `#task/${t.id}`;
    });
    body.append(row);
  }
}

function renderTask(t) {
  state.task = t;
  $("task-title").textContent = `Task #${t.id} (${t.status})`;
  const fields = $("task-fields");
  fields.replaceChildren();
  const add = (name, value) => fields.append(el("dt", { text: name }), el("dd", { text: value ?? "-" }));
  add("queue", t.queue);
  add("type", t.type);
  add("status", t.status);
  add("attempts", `${t.attempts}/${t.max_attempts}`);
  add("replays", t.replays);
  add("priority", t.priority);
  add("created", localTime(t.created_at));
  add("finished", localTime(t.finished_at));
  add("unique key", t.unique_key);
  $("task-error").textContent = t.last_error || "(none)";
  $("task-payload").textContent = JSON.stringify(t.payload, null, 2);
  const body = document.querySelector("#attempts tbody");
  body.replaceChildren();
  for (const a of t.attempt_history || [])
    body.append(el("tr", {}, [
      el("td", { cls: "num", text: a.attempt }),
      el("td", { text: a.worker }),
      el("td", { text: localTime(a.started_at) }),
      el("td", { text: localTime(a.ended_at) }),
      el("td", { text: a.outcome }),
      el("td", { cls: "num", text: a.exit_code ?? "-" }),
      el("td", { cls: "error-cell", text: a.error || "", title: a.error || "" }),
    ]));
  $("task-retry").hidden = t.status !== "dead";
}

function renderWorkers(doc) {
  const body = document.querySelector("#workers tbody");
  body.replaceChildren();
  $("workers-empty").hidden = doc.workers.length > 0;
  for (const w of doc.workers) {
    const stale = w.heartbeat_age_seconds > 30;
    const task = w.current_task;
    body.append(el("tr", { attrs: { "data-worker": w.name } }, [
      el("td", {}, [el("strong", { text: w.name })]),
      el("td", { cls: "num", text: w.pid }),
      el("td", { text: w.host }),
      el("td", {}, [el("span", { cls: `badge ${stale ? "critical" : "ok"}`, text: `${age(w.heartbeat_age_seconds)} ago` })]),
      el("td", {}, task ? [el("a", { text: `#${task.id} ${task.type} (${task.queue})`, attrs: { href: `#task/${task.id}` } })] : ["-"]),
      el("td", { cls: "num", text: w.tasks_run }),
      el("td", { cls: "muted", text: w.status }),
    ]));
  }
}

function renderSystem(health, quota) {
  const body = document.querySelector("#system-checks tbody");
  body.replaceChildren();
  const wanted = (c) => ["database", "integrity", "backup"].includes(c.name) || c.name.startsWith("disk");
  for (const c of (health.checks || []).filter(wanted))
    body.append(el("tr", {}, [el("td", { text: c.name }), el("td", { cls: `status-${c.status}`, text: c.status }),
      el("td", { text: c.message })]));
  const qbody = document.querySelector("#quota tbody");
  qbody.replaceChildren();
  for (const p of quota.providers)
    qbody.append(el("tr", { attrs: { "data-provider": p.provider } }, [
      el("td", {}, [el("strong", { text: p.provider })]),
      el("td", { text: p.usable ? "present" : `absent: ${p.missing_secrets.join(", ")}` }),
      el("td", { cls: "num", text: p.used }),
      el("td", { cls: "num", text: p.daily_quota > 0 ? p.daily_quota : "unlimited" }),
      el("td", { cls: "num", text: p.spent ? "0 (spent)" : p.remaining ?? "-" }),
      el("td", { text: localTime(p.resets_at) }),
      el("td", {}, [el("span", { cls: `badge ${p.breaker.state === "closed" ? "ok" : "critical"}`, text: p.breaker.state })]),
    ]));
}

// ---- polling ----------------------------------------------------------------------------------------------

let polling = false;

async function poll() {
  clearTimeout(state.timer);
  if (document.hidden) return;
  if (polling) {
    state.timer = setTimeout(poll, 200);
    return;
  }
  polling = true;
  try {
    const [health, status] = await Promise.all([get("/health", [503]), get("/api/v1/queue/status")]);
    renderVerdict(health);
    renderQueues(status.queues);
    if (state.view === "overview") {
      const queue = $("activity-queue").value;
      renderChart(await get(`/api/v1/activity${queue ? `?queue=${encodeURIComponent(queue)}` : ""}`));
    } else if (state.view === "dead") {
      const url = deadUrl();
      renderDead(url ? await get(url) : []);
    } else if (state.view === "task" && state.arg) {
      renderTask(await get(`/api/v1/tasks/${encodeURIComponent(state.arg)}`));
    } else if (state.view === "workers") {
      renderWorkers(await get("/api/v1/workers"));
    } else if (state.view === "system") {
      renderSystem(health, await get("/api/v1/search/quota"));
    }
    renderSession();
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (e instanceof NetworkError) {
      $("updated").textContent = "cannot reach oos-api; retrying";
    } else if (e instanceof ApiError) {
      if (e.status !== 401) $("updated").textContent = e.message;
    } else {
      $("updated").textContent = `the dashboard failed: ${e.message}`;
      console.error(e);
    }
  } finally {
    polling = false;
    if (!document.hidden && !state.needToken) state.timer = setTimeout(poll, POLL_MS);
  }
}

// ---- dead letter: retry ------------------------------------------------------------------------------------

function bulkBody() {
  const error = $("dead-error").value;
  return error ? { error } : {};
}

async function askBulkRetry() {
  const queue = $("dead-queue").value;
  if (!queue) return;
  const url = `/api/v1/queue/${encodeURIComponent(queue)}/dead-letter/retry`;
  let count;
  try {
    const dry = await post(`${url}?dry_run=true`, bulkBody());
    count = dry.requeued.length;
  } catch (e) {
    toast(`retry in bulk: ${e.message}`, true);
    return;
  }
  const error = $("dead-error").value;
  $("bulk-confirm-text").textContent = count === 0
    ? `No dead task of queue ${queue} matches.`
    : `Retry ${count} dead task${count > 1 ? "s" : ""} of queue ${queue}${error ? ` whose error contains "${error}"` : ""}? ` +
      "They go back to pending with their attempts reset.";
  $("bulk-confirm-yes").hidden = count === 0;
  $("bulk-confirm").hidden = false;
}

async function bulkRetry(button) {
  const queue = $("dead-queue").value;
  $("bulk-confirm").hidden = true;
  await act(button, `retry dead tasks of ${queue}`,
    () => post(`/api/v1/queue/${encodeURIComponent(queue)}/dead-letter/retry`, bulkBody()),
    (result) => `requeued ${result.requeued.length}`);
}

// ---- start ------------------------------------------------------------------------------------------------

function start() {
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("token-input").value.trim();
    $("token-input").value = "";
    if (token) setToken(token);
  });
  $("token-cancel").addEventListener("click", () => { $("token-form").hidden = true; });
  $("signin").addEventListener("click", askForToken);
  $("signout").addEventListener("click", () => setToken(""));
  $("activity-queue").addEventListener("change", poll);
  for (const radio of document.querySelectorAll("input[name=range]")) radio.addEventListener("change", poll);
  $("dead-queue").addEventListener("change", () => { $("bulk-confirm").hidden = true; poll(); });
  let typing = 0;
  $("dead-error").addEventListener("input", () => {
    $("bulk-confirm").hidden = true;
    clearTimeout(typing);
    typing = setTimeout(poll, 300);
  });
  $("bulk-retry").addEventListener("click", askBulkRetry);
  $("bulk-confirm-yes").addEventListener("click", (e) => bulkRetry(e.currentTarget));
  $("bulk-confirm-no").addEventListener("click", () => { $("bulk-confirm").hidden = true; });
  $("task-retry").addEventListener("click", (e) => {
    const t = state.task;
    if (!t) return;
    act(e.currentTarget, `retry task ${t.id}`,
      () => post(`/api/v1/queue/${encodeURIComponent(t.queue)}/dead-letter/${t.id}/retry`));
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) clearTimeout(state.timer);
    else poll();
  });
  window.addEventListener("hashchange", route);
  renderSession();
  route();
}

start();
