#!/usr/bin/env bash
# `npm run demo`: from a fresh clone to a health report from real servers, then the monitoring loop:
# a lagging projection -> the event monitor -> Prometheus -> Alertmanager -> cimops alerts list -> resolved.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# CIMOPS_SERVERS chooses the servers (debian12, trixie, unstable); `cimops sandbox up` honours it too.
servers=${CIMOPS_SERVERS:-debian12}
say "Installing the $servers servers (nats-server, prometheus, prometheus-alertmanager) if missing"
bash scripts/install-servers.sh "$servers"
if [ ! -d node_modules ]; then
  say "Installing dependencies"
  npm ci --no-audit --no-fund
fi
say "Building"
npm run --silent build >/dev/null

cimops() { node ./bin/run.js "$@"; }

# GET a URL's body: curl when installed, else Node's fetch (always there).
get() {
  if command -v curl >/dev/null 2>&1; then curl -fsS --max-time 5 "$1"
  else node -e 'fetch(process.argv[1], {signal: AbortSignal.timeout(5000)}).then((r) => r.text()).then((t) => process.stdout.write(t))' "$1"; fi
}
# A field of `cimops sandbox status --json`'s process NAME: its url.
process_url() {
  cimops sandbox status --json | node -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(s.processes.find((p) => p.name === process.argv[1])?.url ?? "")' "$1"
}
# The workflow domain's processing lag as the monitor exports it (seconds), or "?".
workflow_lag() {
  (get "$monitor/metrics" 2>/dev/null || true) | awk '/^cim_event_processing_lag_seconds\{domain="workflow"\}/ {printf "%.0f", $2; found=1} END {if (!found) printf "?"}'
}
# Which servers the sandbox runs: `debian12 (nats-server 2.9.10, prometheus 2.42.0, alertmanager 0.25.0)`.
servers_used() {
  cimops sandbox status --json | node -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8")); const v = s.versions; console.log(`${s.servers} (nats-server ${v.nats}, prometheus ${v.prometheus}, alertmanager ${v.alertmanager})`)'
}
# The state of HighEventProcessingLag for domain workflow in Prometheus: pending, firing or none.
prometheus_state() {
  (get "$prometheus/api/v1/query?query=ALERTS%7Balertname%3D%22HighEventProcessingLag%22%2Cdomain%3D%22workflow%22%2Cseverity%3D%22warning%22%7D" 2>/dev/null || true) |
    node -e 'let t = ""; process.stdin.on("data", (d) => (t += d)).on("end", () => { try { console.log(JSON.parse(t).data.result[0]?.metric.alertstate ?? "none") } catch { console.log("?") } })'
}
# Whether `cimops alerts list` (Alertmanager) shows HighEventProcessingLag for domain workflow.
in_alertmanager() {
  cimops alerts list --json 2>/dev/null | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); process.exit(r.alerts.some((a) => a.alertname === "HighEventProcessingLag" && a.labels.domain === "workflow") ? 0 : 1)'
}

# `sandbox status` exits 3 when no sandbox runs; one that runs (even partly) is replaced by a fresh one.
running=0
cimops sandbox status >/dev/null 2>&1 || running=$?
if [ "$running" -ne 3 ]; then
  say "Stopping the running sandbox, so that the demo starts from a fresh one (cimops sandbox down)"
  cimops sandbox down
fi
say "Starting the sandbox and its event monitor (cimops sandbox up)"
cimops sandbox up
say "Seeding CIM streams, events and projection consumers (cimops sandbox seed)"
cimops sandbox seed
seeded=$SECONDS
say "Health check (cimops health-check)"
set +e
cimops health-check
status=$?
set -e

monitor=$(process_url monitor)
prometheus=$(process_url prometheus)
say "The event monitor's metrics: the lagging projection workflow-analytics (curl -s $monitor/metrics)"
sleep 2
get "$monitor/metrics" | grep -E '^cim_(event_processing_lag_seconds|projection_lag_seconds|event_queue_depth|events_failed_total)\{.*workflow' || true
get "$monitor/metrics" | grep -E '^cim_(nats_connections\{state="connected"\}|monitor_counted_sequence)' || true

say "Waiting for HighEventProcessingLag: lag > 10s for 1m, Prometheus evaluates every second (at most 2 minutes)"
deadline=$((SECONDS + 120))
until in_alertmanager; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "HighEventProcessingLag did not reach Alertmanager within 2 minutes; see cimops alerts list, $prometheus/alerts" >&2
    exit 1
  fi
  printf '  %3ss after seeding: workflow lag %ss, alert in Prometheus: %s, in Alertmanager: not yet\n' "$((SECONDS - seeded))" "$(workflow_lag)" "$(prometheus_state)"
  sleep 5
done
printf '  %3ss after seeding: the alert reached Alertmanager\n' "$((SECONDS - seeded))"
say "cimops alerts list"
cimops alerts list || true

say "The projection catches up (cimops sandbox seed --catch-up)"
cimops sandbox seed --catch-up
deadline=$((SECONDS + 60))
while in_alertmanager; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "HighEventProcessingLag did not resolve within a minute; see cimops alerts list" >&2
    exit 1
  fi
  printf '  workflow lag %ss, alert in Prometheus: %s, still in Alertmanager\n' "$(workflow_lag)" "$(prometheus_state)"
  sleep 2
done
printf '  workflow lag %ss: resolved\n' "$(workflow_lag)"
say "cimops alerts list"
cimops alerts list || true

cat <<MSG

Servers used: $(servers_used).
The health check exited ${status}: its exit code is the Nagios code of the overall status
(0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN). Then the monitoring loop went round once: the projection
consumer workflow-analytics, left behind on purpose by the seed, showed up as lag in the event
monitor's metrics; Prometheus fired HighEventProcessingLag into Alertmanager, where
\`cimops alerts list\` showed it with its runbook; once the projection caught up it resolved.

Explore (the "sandbox" context is now current):
  node ./bin/run.js sandbox status                  # the servers and the event monitor
  curl -s $monitor/metrics | grep ^cim_
  node ./bin/run.js runbook show high-event-lag
  node ./bin/run.js health-check --verbose
  node ./bin/run.js health-check --watch
  node ./bin/run.js health-check --format nagios
  node ./bin/run.js context show
  npm install -g . && cimops --help        # put cimops on your PATH

Stop everything:
  node ./bin/run.js sandbox down
MSG
