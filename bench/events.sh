#!/usr/bin/env bash
# Webhook delivery under a burst, written to bench/results/events-latest.md: 1,000 promotions (stage
# changes, 8 concurrent clients) with 10 subscribed endpoints (local receivers answering at once), so
# 10,000 deliveries; reports the time from each event's commit to its delivery (p50/p95/p99/max) and
# checks that every endpoint got every event exactly once.
#
#   bench/events.sh
#   PROMOTIONS=1000 ENDPOINTS=10 CONCURRENCY=8 RUNS=3 bench/events.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMOTIONS=${PROMOTIONS:-1000}
ENDPOINTS=${ENDPOINTS:-10}
CONCURRENCY=${CONCURRENCY:-8}
RUNS=${RUNS:-3}
results="$bench_root/results"
mkdir -p "$results"
report="$results/events-latest.md"

build_berth
log "publishing berth-bench"
dotnet publish "$bench_root/Berth.Bench" -c Release -o "$work/bench-tool" -nologo -v quiet >/dev/null

{
  echo "# Webhook burst $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; $PROMOTIONS promotions, $ENDPOINTS endpoints, $CONCURRENCY clients; one server (SQLite, default settings)."
  echo
} > "$report"
for run in $(seq "$RUNS"); do
  log "webhook burst $run/$RUNS"
  rm -rf "$work/events-$run"
  start_berth "$work/events-$run"
  { echo "Run $run:"; echo '```'; "$work/bench-tool/berth-bench" webhook-burst --url "$BERTH_URL" --token "$BERTH_TOKEN" \
      --promotions "$PROMOTIONS" --endpoints "$ENDPOINTS" --concurrency "$CONCURRENCY"; echo '```'; echo; } >> "$report"
  stop_berth
done
cat "$report"
