// The dashboard: one self-contained page (inline CSS and script, nothing fetched from
// elsewhere: admin hosts often have no internet access). It opens /events and redraws on each
// snapshot, so it stays live without reloading. Every number sits in an element with a stable
// id or data attribute, its raw value in data-value, for scripts and tests to read. Values are
// set with textContent only, never as HTML.

const STYLE = `
:root { --bg:#f4f6f9; --card:#fff; --ink:#1d2430; --muted:#6b7585; --line:#e3e7ee; --accent:#2f6fde; --ok:#1f9d55; --bad:#d64545; --warn:#c98a00; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; background:var(--bg); color:var(--ink); }
header { display:flex; align-items:center; gap:10px; padding:14px 28px; background:#18202c; color:#fff; }
header h1 { font-size:18px; font-weight:600; margin:0; letter-spacing:.2px; }
header .sub { color:#a9b4c4; font-size:13px; }
header .spacer { flex:1; }
.badge { display:inline-block; padding:3px 10px; border-radius:999px; font-size:12px; font-weight:600; background:#3a4556; color:#fff; }
.badge.good { background:var(--ok); } .badge.bad { background:var(--bad); } .badge.warn { background:var(--warn); }
.live { font-size:12px; color:#a9b4c4; } .live::before { content:""; display:inline-block; width:8px; height:8px; border-radius:50%; background:#6b7585; margin-right:6px; vertical-align:1px; }
.live.on::before { background:#35d07f; box-shadow:0 0 0 3px rgba(53,208,127,.25); }
main { padding:22px 28px 32px; }
.cards { display:grid; grid-template-columns:repeat(4, minmax(0,1fr)); gap:14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px; min-height:104px; }
.card h2 { margin:0 0 6px; font-size:12px; font-weight:600; text-transform:uppercase; letter-spacing:.6px; color:var(--muted); }
.big { font-size:26px; font-weight:650; font-variant-numeric:tabular-nums; white-space:nowrap; }
.pair { display:flex; gap:22px; } .pair > div { min-width:0; }
.small { font-size:12px; color:var(--muted); }
.num { font-variant-numeric:tabular-nums; }
svg.spark { width:100%; height:34px; display:block; margin-top:4px; }
section.table { margin-top:18px; background:var(--card); border:1px solid var(--line); border-radius:10px; overflow:hidden; }
section.table h2 { margin:0; padding:12px 16px; font-size:13px; font-weight:600; border-bottom:1px solid var(--line); }
table { width:100%; border-collapse:collapse; }
th, td { padding:8px 12px; text-align:right; border-bottom:1px solid var(--line); white-space:nowrap; font-variant-numeric:tabular-nums; }
th { font-size:12px; color:var(--muted); font-weight:600; background:#fafbfc; }
th:first-child, td:first-child { text-align:left; }
td.method { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:13px; }
td.method .kind { font-family:system-ui,sans-serif; color:var(--muted); font-size:11px; margin-left:8px; }
td.code-ok { color:var(--ok); font-weight:600; } td.code-err { color:var(--bad); font-weight:600; } td.zero { color:#c3c9d3; }
tr:last-child td { border-bottom:0; }
.empty { padding:18px 16px; color:var(--muted); }
footer { margin-top:14px; color:var(--muted); font-size:12px; }
`;

const SCRIPT = `
"use strict";
const CODES = ["OK","CANCELLED","UNKNOWN","INVALID_ARGUMENT","DEADLINE_EXCEEDED","NOT_FOUND","ALREADY_EXISTS","PERMISSION_DENIED","RESOURCE_EXHAUSTED","FAILED_PRECONDITION","ABORTED","OUT_OF_RANGE","UNIMPLEMENTED","INTERNAL","UNAVAILABLE","DATA_LOSS","UNAUTHENTICATED"];
const $ = (id) => document.getElementById(id);
function fmtMs(v) {
  if (v === null || v === undefined) return "–";
  if (v < 1) return (v * 1000).toFixed(0) + " µs";
  if (v < 1000) return (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)) + " ms";
  return (v / 1000).toFixed(2) + " s";
}
function fmtBytes(b) { return (b / 1048576).toFixed(1) + " MiB"; }
function fmtRate(r) { return r < 10 ? r.toFixed(2) : r < 100 ? r.toFixed(1) : r.toFixed(0); }
function fmtInt(n) { return n.toLocaleString("en-US"); }
function fmtUptime(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return (h ? h + "h " : "") + (h || m ? m + "m " : "") + sec + "s";
}
function put(id, value, text) {
  const el = $(id);
  el.dataset.value = value === null || value === undefined ? "" : String(value);
  el.textContent = text;
}
function badge(el, status) {
  el.textContent = status;
  el.className = "badge " + (status === "SERVING" || status === "serving" ? "good" : status === "UNKNOWN" || status === "new" ? "warn" : "bad");
  el.dataset.value = status;
}
function spark(all) {
  const svg = $("calls-history");
  // The quiet seconds before the first call say nothing: start there (at least 10 points).
  const first = all.findIndex((v) => v > 0);
  const history = all.slice(Math.max(0, Math.min(first < 0 ? all.length : first, all.length - 10)));
  const w = 300, h = 34, max = Math.max(1, ...history);
  const step = history.length > 1 ? w / (history.length - 1) : w;
  const pts = history.map((v, i) => (i * step).toFixed(1) + "," + (h - 2 - (v / max) * (h - 4)).toFixed(1));
  svg.querySelector("polyline").setAttribute("points", pts.join(" "));
  svg.querySelector("polygon").setAttribute("points", "0," + h + " " + pts.join(" ") + " " + w + "," + h);
  svg.dataset.value = all.join(",");
}
function cell(tr, text, cls, attrs) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  for (const k in attrs) td.dataset[k] = attrs[k];
  tr.appendChild(td);
  return td;
}
function table(methods) {
  const seen = new Set();
  for (const m of methods) for (const c in m.codes) seen.add(c);
  const codes = CODES.filter((c) => seen.has(c));
  for (const c of seen) if (!codes.includes(c)) codes.push(c);
  const head = $("methods-head");
  head.replaceChildren();
  for (const label of ["Method", "Calls", "Calls/s", "p50", "p99"].concat(codes)) {
    const th = document.createElement("th");
    th.textContent = label;
    head.appendChild(th);
  }
  const body = $("methods-body");
  body.replaceChildren();
  $("methods-empty").hidden = methods.length > 0;
  for (const m of methods) {
    const tr = document.createElement("tr");
    tr.dataset.method = m.method;
    const name = cell(tr, m.method, "method", {});
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = m.kind.replace("_", " ");
    name.appendChild(kind);
    cell(tr, fmtInt(m.calls), "", { field: "calls", value: String(m.calls) });
    cell(tr, fmtRate(m.rate), "", { field: "rate", value: String(m.rate) });
    cell(tr, fmtMs(m.p50Ms), "", { field: "p50", value: m.p50Ms === null ? "" : String(m.p50Ms) });
    cell(tr, fmtMs(m.p99Ms), "", { field: "p99", value: m.p99Ms === null ? "" : String(m.p99Ms) });
    for (const c of codes) {
      const n = m.codes[c] || 0;
      cell(tr, n ? fmtInt(n) : "0", n === 0 ? "zero" : c === "OK" ? "code-ok" : "code-err", { code: c, value: String(n) });
    }
    body.appendChild(tr);
  }
}
function render(s) {
  const c = s.calls;
  put("calls-rate", c.rate, fmtRate(c.rate));
  $("calls-window").textContent = "over the last " + c.windowSeconds + " s";
  spark(c.history);
  put("calls-total", c.calls, fmtInt(c.calls));
  put("calls-errors", c.errors, fmtInt(c.errors));
  put("latency-p50", c.p50Ms, fmtMs(c.p50Ms));
  put("latency-p99", c.p99Ms, fmtMs(c.p99Ms));
  put("connections", s.server.connections, fmtInt(s.server.connections));
  put("sessions", s.server.sessions, fmtInt(s.server.sessions));
  put("active-calls", s.server.activeCalls, fmtInt(s.server.activeCalls));
  put("active-streams", c.activeStreams, fmtInt(c.activeStreams));
  put("loop-p99", s.runtime.eventLoop.p99Ms, fmtMs(s.runtime.eventLoop.p99Ms));
  put("loop-max", s.runtime.eventLoop.maxMs, fmtMs(s.runtime.eventLoop.maxMs));
  put("mem-rss", s.runtime.memory.rssBytes, fmtBytes(s.runtime.memory.rssBytes));
  put("mem-heap", s.runtime.memory.heapUsedBytes, fmtBytes(s.runtime.memory.heapUsedBytes) + " / " + fmtBytes(s.runtime.memory.heapTotalBytes));
  put("uptime", s.server.uptimeSeconds, fmtUptime(s.server.uptimeSeconds));
  put("ports", s.server.ports.join(","), s.server.ports.length ? s.server.ports.join(", ") : "none");
  badge($("server-state"), s.server.state);
  const health = $("health-status");
  health.hidden = $("health-label").hidden = s.health === null;
  if (s.health !== null) badge(health, s.health);
  table(c.methods);
  put("seq", s.seq, "snapshot #" + s.seq + " at " + new Date(s.time).toLocaleTimeString("en-GB"));
}
const token = new URLSearchParams(location.search).get("token");
if (token) for (const a of document.querySelectorAll("footer a")) a.href += "?token=" + encodeURIComponent(token);
const live = $("live-status");
const source = new EventSource("events" + (token ? "?token=" + encodeURIComponent(token) : ""));
source.addEventListener("snapshot", (e) => {
  live.className = "live on";
  live.textContent = "live";
  render(JSON.parse(e.data));
});
source.onerror = () => {
  live.className = "live";
  live.textContent = source.readyState === EventSource.CLOSED ? "disconnected (reload to retry)" : "reconnecting…";
};
`;

const BODY = `
<header>
  <h1>Switchboard</h1><span class="sub">server dashboard</span>
  <span class="sub">server</span><span id="server-state" class="badge">…</span>
  <span class="sub" id="health-label" hidden>health</span><span id="health-status" class="badge" hidden>…</span>
  <span class="spacer"></span>
  <span class="sub">ports <span id="ports" class="num">…</span> · up <span id="uptime" class="num">…</span></span>
  <span id="live-status" class="live">connecting…</span>
</header>
<main>
  <div class="cards">
    <div class="card"><h2>Calls / s</h2><div class="big" id="calls-rate">–</div><div class="small" id="calls-window"></div>
      <svg class="spark" id="calls-history" viewBox="0 0 300 34" preserveAspectRatio="none" aria-label="calls per second, last minute">
        <polygon fill="rgba(47,111,222,.12)" points=""></polygon><polyline fill="none" stroke="#2f6fde" stroke-width="1.6" points=""></polyline></svg></div>
    <div class="card"><h2>Calls</h2><div class="pair">
      <div><div class="big" id="calls-total">–</div><div class="small">total</div></div>
      <div><div class="big" id="calls-errors" style="color:var(--bad)">–</div><div class="small">errors (not OK)</div></div></div></div>
    <div class="card"><h2>Latency</h2><div class="pair">
      <div><div class="big" id="latency-p50">–</div><div class="small">p50</div></div>
      <div><div class="big" id="latency-p99">–</div><div class="small">p99</div></div></div></div>
    <div class="card"><h2>Connections</h2><div class="pair">
      <div><div class="big" id="connections">–</div><div class="small">open</div></div>
      <div><div class="big" id="sessions">–</div><div class="small">HTTP/2 sessions</div></div></div></div>
    <div class="card"><h2>In progress</h2><div class="pair">
      <div><div class="big" id="active-calls">–</div><div class="small">calls (streams)</div></div>
      <div><div class="big" id="active-streams">–</div><div class="small">streaming calls</div></div></div></div>
    <div class="card"><h2>Event-loop delay</h2><div class="pair">
      <div><div class="big" id="loop-p99">–</div><div class="small">p99, last second</div></div>
      <div><div class="big" id="loop-max">–</div><div class="small">max</div></div></div></div>
    <div class="card" style="grid-column:span 2"><h2>Memory</h2><div class="pair">
      <div><div class="big" id="mem-rss">–</div><div class="small">resident (RSS)</div></div>
      <div><div class="big" id="mem-heap">–</div><div class="small">JS heap used / total</div></div></div></div>
  </div>
  <section class="table"><h2>Calls by method and status code</h2>
    <table id="methods"><thead><tr id="methods-head"></tr></thead><tbody id="methods-body"></tbody></table>
    <div class="empty" id="methods-empty">No calls yet.</div>
  </section>
  <footer><span id="seq">waiting for the first snapshot…</span> · latency since start · <a href="metrics">/metrics</a> · <a href="health">/health</a></footer>
</main>
`;

/** The dashboard page (GET /). */
export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Switchboard dashboard</title>
<style>${STYLE}</style></head>
<body>${BODY}<script>${SCRIPT}</script></body></html>
`;
}
