#include "server/http/status_page.h"

namespace raftkv::server::http {

std::string_view StatusPageHtml() {
  // Rendering uses textContent only, so member names and URLs from the cluster cannot inject
  // markup into the page.
  static constexpr std::string_view kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>raftkv status</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: left; }
th { background: #eee; }
tr.leader td { font-weight: bold; }
tr.unreachable td { color: #a00; }
#state.stale { color: #a00; }
</style>
</head>
<body>
<h1>raftkv cluster <span id="cluster"></span></h1>
<p>Served by member <span id="self"></span>; leader <span id="leader">unknown</span>,
term <span id="term"></span>. <span id="state">loading…</span></p>
<h2>Members</h2>
<table id="members">
<thead><tr><th>id</th><th>name</th><th>role</th><th>client URL</th><th>leader (its view)</th>
<th>term</th><th>commit</th><th>applied</th><th>db size</th><th>status</th></tr></thead>
<tbody></tbody>
</table>
<h2>Recent leader changes (this member's view)</h2>
<table id="leader-changes">
<thead><tr><th>time (UTC)</th><th>leader</th><th>term</th></tr></thead>
<tbody></tbody>
</table>
<h2>WAL fsync</h2>
<p id="fsync"></p>
<script>
"use strict";
function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = String(text);
  row.appendChild(td);
}
function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}
function render(s) {
  document.getElementById("cluster").textContent = s.cluster_id;
  document.getElementById("self").textContent = s.member_id;
  document.getElementById("leader").textContent = s.leader === "0" ? "none" : s.leader;
  document.getElementById("term").textContent = s.term;
  const members = s.members.map(m => {
    const row = document.createElement("tr");
    row.dataset.member = m.id;
    if (m.id === s.leader) row.classList.add("leader");
    if (!m.reachable) row.classList.add("unreachable");
    cell(row, m.id + (m.is_self ? " (this member)" : ""));
    cell(row, m.name || "unstarted");
    cell(row, m.is_learner ? "learner" : (m.id === s.leader ? "leader" : "follower"));
    cell(row, m.client_urls.join(", "));
    cell(row, m.reachable ? (m.leader === "0" ? "none" : m.leader) : "");
    cell(row, m.reachable ? m.term : "");
    cell(row, m.reachable ? m.commit : "");
    cell(row, m.reachable ? m.applied : "");
    cell(row, m.reachable ? m.db_size_bytes : "");
    cell(row, m.reachable ? "ok" : m.error);
    return row;
  });
  fill(document.querySelector("#members tbody"), members);
  const changes = s.leader_changes.slice().reverse().map(c => {
    const row = document.createElement("tr");
    cell(row, c.time);
    cell(row, c.leader);
    cell(row, c.term);
    return row;
  });
  fill(document.querySelector("#leader-changes tbody"), changes);
  const f = s.wal_fsync;
  document.getElementById("fsync").textContent = f.count === 0 ? "no fsyncs yet" :
      `${f.count} fsyncs, mean ${(f.mean_seconds * 1000).toFixed(2)} ms, ` +
      `p99 at most ${(f.p99_seconds * 1000).toFixed(0)} ms`;
  const state = document.getElementById("state");
  state.textContent = "updated " + new Date().toISOString();
  state.className = "";
}
async function refresh() {
  try {
    const answer = await fetch("/status.json", {cache: "no-store"});
    if (!answer.ok) throw new Error("HTTP " + answer.status);
    render(await answer.json());
  } catch (e) {
    const state = document.getElementById("state");
    state.textContent = "cannot reach this member: " + e.message;
    state.className = "stale";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
)html";
  return kPage;
}

}  // namespace raftkv::server::http
