#!/usr/bin/env bash
# "Search at scale": seeds a registry of MODELS models and VERSIONS versions (one model with BIG_VERSIONS of them)
# into SQLite and into PostgreSQL with 'berth-bench seed', starts 'berth serve' on each and measures, one request
# at a time ('berth-bench scale-latency'): search with a tag filter and a metric sort (first pages and the keyset
# pages after them), every page of the big model's version list, and alias resolution. Then three replicas on the
# same PostgreSQL (each its own data folder, one shared blob folder) against one of them, alternating: requests/s
# for alias resolution (wrk, bench/wrk/alias-replicas.lua) and for pushes of small versions ('berth-bench
# push-load', concurrent SDK clients). Writes bench/results/scale.md (copy the numbers into docs/benchmarks.md).
#
#   bench/scale.sh                                   everything (about 20 minutes on 2 cores)
#   MODELS=10000 VERSIONS=100000 BIG_VERSIONS=10000 bench/scale.sh   a smaller registry
#   ROUNDS=3 SECONDS_PER_RUN=20 bench/scale.sh       rounds of the replica comparison and the length of each
#                                                    measurement in it (medians of the rounds are reported)
#   SKIP_SQLITE=1 / SKIP_POSTGRES=1 / SKIP_REPLICAS=1
#
# Needs the .NET SDK; installs wrk and PostgreSQL with apt-get when missing (as root). PostgreSQL runs as a
# throwaway server of this script's own (scripts/postgres.sh) with durable commits (fsync on) and
# shared_buffers = 2GB; everything listens on 127.0.0.1 only.
set -euo pipefail
export BENCH_WORK="${BENCH_WORK:-/tmp/berth-scale}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$repo_root/scripts/postgres.sh"

MODELS=${MODELS:-100000}
VERSIONS=${VERSIONS:-1000000}
BIG_VERSIONS=${BIG_VERSIONS:-100000}
NAMESPACES=${NAMESPACES:-100}
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
results="$bench_root/results"
mkdir -p "$results"
report="$results/scale.md"
bench_bin="$work/bench-bin"
seed_args=(--models "$MODELS" --versions "$VERSIONS" --big-model-versions "$BIG_VERSIONS" --namespaces "$NAMESPACES")
latency_args=(--models "$MODELS" --namespaces "$NAMESPACES")

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  stop_postgres
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null || ! command -v curl >/dev/null; then
  log "installing wrk and curl"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk curl >/dev/null
fi

build_berth
log "building berth-bench (Release)"
dotnet build "$bench_root/Berth.Bench" -c Release -o "$bench_bin" -nologo -v quiet -clp:ErrorsOnly >/dev/null

# A server on a data folder (kept), optionally on PostgreSQL and a blob folder: serve <dir> [args] -> SERVE_URL, SERVE_PID
serve() {
  local dir="$1"; shift
  local port; port=$(free_port)
  SERVE_URL="http://127.0.0.1:$port"
  "$bin/berth" serve --data "$dir" --urls "$SERVE_URL" "$@" >> "$dir.log" 2>&1 &
  SERVE_PID=$!
  pids+=("$SERVE_PID")
  wait_http "$SERVE_URL/readyz" 120
}
unserve() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# Seeds one database and measures the read paths: measure_db <label> <data dir> <--db value> [serve args]
declare -A seed_s latency loads
measure_db() {
  local label="$1" dir="$2" db="$3"; shift 3
  rm -rf "$dir" "$dir.log"
  log "$label: migrating (first start)"
  serve "$dir" "$@"; unserve "$SERVE_PID"
  log "$label: seeding $MODELS models, $VERSIONS versions"
  local s; s=$(now)
  "$bench_bin/berth-bench" seed --db "$db" "${seed_args[@]}" --blobs "$BLOBS" | tee "$work/seed-$label.log" >&2
  seed_s[$label]=$(elapsed "$s" "$(now)")
  # The bulk load leaves gigabytes of dirty pages; write them out now rather than during the measurement.
  if [ "$label" = postgres ]; then pg_superuser_sql "CHECKPOINT" >/dev/null; else sync; fi
  serve "$dir" "$@"
  TOKEN=$(cat "$dir/admin-token")
  log "$label: measuring latency (one request at a time)"
  loads[$label]="$(cut -d' ' -f1 /proc/loadavg)"
  latency[$label]=$("$bench_bin/berth-bench" scale-latency --url "$SERVE_URL" --token "$TOKEN" --server-pid "$SERVE_PID" "${latency_args[@]}")
  loads[$label]="${loads[$label]} before, $(cut -d' ' -f1 /proc/loadavg) after"
  echo "${latency[$label]}" >&2
}

machine="$(nproc) cores ($(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | xargs)), $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo) RAM; $(uname -sr); .NET $(dotnet --version)"

if [ "${SKIP_SQLITE:-0}" != 1 ]; then
  BLOBS="$work/sqlite/store"
  measure_db sqlite "$work/sqlite" "$work/sqlite"
  unserve "$SERVE_PID"
fi

alias1=() alias3=() push1=() push3=()
if [ "${SKIP_POSTGRES:-0}" != 1 ]; then
  PG_FSYNC=on PG_EXTRA_CONF="shared_buffers = 2GB" start_postgres_server
  pg_version=$("$pg_bin/postgres" -V | awk '{print $3}')
  log "PostgreSQL $pg_version on 127.0.0.1:$pg_port"
  pg_superuser_sql "CREATE DATABASE berth_scale OWNER berth" >/dev/null
  conn="${PG_CONNECTION/Database=postgres/Database=berth_scale}"
  BLOBS="$work/pg-blobs"
  rm -rf "$BLOBS"
  measure_db postgres "$work/pg1" "$conn" --db "$conn" --blobs "$BLOBS"
  url1="$SERVE_URL"

  if [ "${SKIP_REPLICAS:-0}" != 1 ]; then
    rm -rf "$work/pg2" "$work/pg3" "$work/pg2.log" "$work/pg3.log"
    serve "$work/pg2" --db "$conn" --blobs "$BLOBS"; url2="$SERVE_URL"
    serve "$work/pg3" --db "$conn" --blobs "$BLOBS"; url3="$SERVE_URL"
    port_of() { echo "${1##*:}"; }
    alias_rps() {
      local out; out=$(PORTS="$*" TOKEN="$TOKEN" MODELS="$MODELS" NAMESPACES="$NAMESPACES" \
        wrk -t3 -c48 -d"${SECONDS_PER_RUN}s" -s "$bench_root/wrk/alias-replicas.lua" --latency "$url1")
      echo "$out" >> "$work/wrk.log"
      if grep -q 'Non-2xx' <<<"$out"; then echo "error: failed requests: $out" >&2; exit 1; fi
      # requests/s and p99 in ms (wrk prints us, ms or s)
      echo "$(awk '/Requests\/sec/ { printf "%.0f", $2 }' <<<"$out") $(awk '$1 == "99%" { v = $2 + 0; if ($2 ~ /us$/) v /= 1000; else if ($2 ~ /[0-9]s$/) v *= 1000; printf "%.1f", v }' <<<"$out")"
    }
    log "replicas: warm-up (10 s of lookups on each, a few pushes)"
    PORTS="$(port_of "$url1") $(port_of "$url2") $(port_of "$url3")" TOKEN="$TOKEN" MODELS="$MODELS" NAMESPACES="$NAMESPACES" \
      wrk -t3 -c48 -d10s -s "$bench_root/wrk/alias-replicas.lua" "$url1" >/dev/null
    "$bench_bin/berth-bench" push-load --urls "$url1,$url2,$url3" --token "$TOKEN" --clients 6 --seconds 5 --warmup 1 >/dev/null
    for round in $(seq "$ROUNDS"); do
      log "replicas round $round/$ROUNDS: alias resolution, 1 then 3 replicas (wrk -t3 -c48, $SECONDS_PER_RUN s)"
      alias1+=("$(alias_rps "$(port_of "$url1")" "$(port_of "$url1")" "$(port_of "$url1")")")
      alias3+=("$(alias_rps "$(port_of "$url1")" "$(port_of "$url2")" "$(port_of "$url3")")")
      log "replicas round $round/$ROUNDS: pushes, 1 then 3 replicas (24 clients, $SECONDS_PER_RUN s)"
      push1+=("$("$bench_bin/berth-bench" push-load --urls "$url1" --token "$TOKEN" --clients 24 --seconds "$SECONDS_PER_RUN" --warmup 3)")
      push3+=("$("$bench_bin/berth-bench" push-load --urls "$url1,$url2,$url3" --token "$TOKEN" --clients 24 --seconds "$SECONDS_PER_RUN" --warmup 3)")
      echo "alias 1: ${alias1[-1]}; alias 3: ${alias3[-1]}; push 1: ${push1[-1]}; push 3: ${push3[-1]}" >&2
    done
    replica_load="$(cut -d' ' -f1-3 /proc/loadavg)"
  fi
fi

# --- report --------------------------------------------------------------------------------------------
col() { awk -F' \\| ' -v c="$1" '{ print $c }'; }
med() { local c="$1"; shift; printf '%s\n' "$@" | awk -v c="$c" '{ print $c }' | median; }
pushcol() { local c="$1"; shift; printf '%s\n' "$@" | awk -F' \\| ' -v c="$c" '{ print $c }' | median; }
{
  echo "# Scale benchmark $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $machine. Registry: $MODELS models in $NAMESPACES namespaces, $VERSIONS versions, one model with $BIG_VERSIONS."
  echo "Command: \`MODELS=$MODELS VERSIONS=$VERSIONS BIG_VERSIONS=$BIG_VERSIONS ROUNDS=$ROUNDS bench/scale.sh\`."
  echo
  for label in sqlite postgres; do
    [ -n "${latency[$label]:-}" ] || continue
    echo "## $label (seeded in ${seed_s[$label]} s; load average ${loads[$label]})"
    echo
    echo "| one request at a time | requests | p50 ms | p95 ms | p99 ms | max ms | server CPU ms per request |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    echo "${latency[$label]}" | sed 's/^/| /; s/$/ |/'
    echo
  done
  if [ ${#alias1[@]} -gt 0 ]; then
    echo "## Three replicas on one PostgreSQL against one (medians of $ROUNDS alternating rounds; load average at the end $replica_load)"
    echo
    echo "| load | one replica | three replicas |"
    echo "| --- | --- | --- |"
    echo "| alias resolution (random models), wrk -t3 -c48, requests/s | $(med 1 "${alias1[@]}") | $(med 1 "${alias3[@]}") |"
    echo "| alias resolution, p99 ms | $(med 2 "${alias1[@]}") | $(med 2 "${alias3[@]}") |"
    echo "| pushes of small versions, 24 SDK clients, pushes/s | $(pushcol 1 "${push1[@]}") | $(pushcol 1 "${push3[@]}") |"
    echo "| push p50 / p99 ms | $(pushcol 2 "${push1[@]}") / $(pushcol 3 "${push1[@]}") | $(pushcol 2 "${push3[@]}") / $(pushcol 3 "${push3[@]}") |"
    echo
    echo "All rounds (requests/s and p99; pushes/s | p50 | p99): alias one ${alias1[*]}; alias three ${alias3[*]}; push one ${push1[*]}; push three ${push3[*]}."
  fi
} | tee "$report"
