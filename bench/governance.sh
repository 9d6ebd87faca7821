#!/usr/bin/env bash
# What governance costs, measured in one run, written to bench/results/governance-latest.md:
#
#  1. Authorization and audit on a write request: PATCH tags on one connection (wrk, p50/p99), on
#     this tree and on the commit before governance ($BASELINE), alternating rounds. This tree is
#     measured twice: as the server administrator (no role lookup) and as a namespace writer (the
#     role comes from the database).
#  2. `berth audit verify` over 1,000,000 entries (seeded with bench/Berth.Bench, chained exactly as
#     the server chains them).
#
#   bench/governance.sh                 everything (about five minutes)
#   ROUNDS=5 BASELINE=<commit> bench/governance.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-3}
BASELINE=${BASELINE:-7f9b8bf}
ENTRIES=${ENTRIES:-1000000}
results="$bench_root/results"
mkdir -p "$results"
report="$results/governance-latest.md"
export BERTH_CONFIG="$work/cli/config.json" BERTH_CACHE_DIR="$work/cli/cache"

ensure_packages
build_berth
baseline_bin="$work/bin-baseline-$BASELINE"
if [ ! -x "$baseline_bin/berth" ]; then
  log "publishing the baseline $BASELINE"
  rm -rf "$work/baseline-src" && mkdir -p "$work/baseline-src"
  git -C "$repo_root" archive "$BASELINE" | tar -x -C "$work/baseline-src"
  dotnet publish "$work/baseline-src/src/Berth.Cli" -c Release -o "$baseline_bin" -nologo -v quiet >/dev/null
fi
log "publishing berth-bench"
dotnet publish "$bench_root/Berth.Bench" -c Release -o "$work/bench-tool" -nologo -v quiet >/dev/null

api() { # method path [json] -> body
  curl -fsS -X "$1" -H "Authorization: Bearer $BERTH_TOKEN" -H 'Content-Type: application/json' ${3:+--data "$3"} "$BERTH_URL/api/v1$2"
}

# One server per build; a tiny version to tag; a writer with a token (this tree only).
start_server() { # label bin
  BERTH_BIN="$2" start_berth "$work/gov-$1"
  mkdir -p "$work/gov-model" && head -c 4096 /dev/urandom > "$work/gov-model/w.bin"
  "$2/berth" push "$work/gov-model" acme/bench --json >/dev/null
  target="$BERTH_URL/api/v1/models/acme/bench/versions/1"
}

patch_p50() { # token -> "p50 p99 rps" (wrk -t1 -c1, 10 s after a 3 s warm-up)
  wrk -t1 -c1 -d3s -s "$bench_root/wrk/patch-tags.lua" -H "Authorization: Bearer $1" "$target" >/dev/null
  local out; out=$(wrk -t1 -c1 -d10s --latency -s "$bench_root/wrk/patch-tags.lua" -H "Authorization: Bearer $1" "$target")
  local non2xx; non2xx=$(echo "$out" | awk '/Non-2xx/ { print $4 }')
  [ -z "$non2xx" ] || { echo "$out" >&2; echo "non-2xx answers during the run" >&2; exit 1; }
  echo "$(echo "$out" | awk '$1 == "50%" { print $2 }') $(echo "$out" | awk '$1 == "99%" { print $2 }') $(echo "$out" | awk '/Requests\/sec/ { print $2 }')"
}

ms() { echo "$1" | awk '/us$/ { sub("us", ""); printf "%.3f\n", $1 / 1000; next } /ms$/ { sub("ms", ""); printf "%.3f\n", $1; next } { print $1 }'; }

declare -a base_p50 admin_p50 writer_p50 base_line admin_line writer_line
for round in $(seq "$ROUNDS"); do
  log "round $round: baseline $BASELINE"
  start_server baseline "$baseline_bin"
  read -r p50 p99 rps <<<"$(patch_p50 "$BERTH_TOKEN")"
  base_p50+=("$(ms "$p50")"); base_line+=("$p50/$p99/$rps")
  stop_berth

  log "round $round: this tree"
  start_server current "$bin"
  api POST /users '{"name":"writer"}' >/dev/null
  api PUT /namespaces/acme/members '{"role":"writer","user":"writer"}' >/dev/null
  writer_token=$(api POST /tokens '{"name":"bench","user":"writer"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  read -r p50 p99 rps <<<"$(patch_p50 "$BERTH_TOKEN")"
  admin_p50+=("$(ms "$p50")"); admin_line+=("$p50/$p99/$rps")
  read -r p50 p99 rps <<<"$(patch_p50 "$writer_token")"
  writer_p50+=("$(ms "$p50")"); writer_line+=("$p50/$p99/$rps")
  verified=$("$bin/berth" audit verify --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["valid"], d["entries"])')
  [ "${verified%% *}" = True ] || { echo "audit chain broken after the write benchmark: $verified" >&2; exit 1; }
  stop_berth
done
base=$(printf '%s\n' "${base_p50[@]}" | median)
admin=$(printf '%s\n' "${admin_p50[@]}" | median)
writer=$(printf '%s\n' "${writer_p50[@]}" | median)

log "audit verify over $ENTRIES entries"
rm -rf "$work/gov-audit"
"$work/bench-tool/berth-bench" seed-audit --data "$work/gov-audit" --entries "$ENTRIES" >&2
KEEP_DATA=1 start_berth "$work/gov-audit"
declare -a verify_s server_s
for _ in $(seq "$ROUNDS"); do
  s=$(now)
  out=$("$bin/berth" audit verify --json)
  verify_s+=("$(elapsed "$s" "$(now)")")
  server_s+=("$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["valid"], d; print(round(d["seconds"], 3))')")
done
entries=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
rss_kb=$(peak_rss_kb "$BERTH_PID")
stop_berth
verify_median=$(printf '%s\n' "${verify_s[@]}" | median)

{
  echo "# Governance benchmark run $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores ($(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | xargs)), $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo) RAM; .NET $(dotnet --version); $ROUNDS alternating rounds, medians."
  echo
  echo "| PATCH tags, one connection (wrk -t1 -c1 -d10s) | p50 (median of rounds) | each round p50/p99/req/s |"
  echo "| --- | --- | --- |"
  echo "| before governance ($BASELINE), server admin token | ${base} ms | ${base_line[*]} |"
  echo "| this tree, server admin token | ${admin} ms | ${admin_line[*]} |"
  echo "| this tree, namespace writer token (role from the database) | ${writer} ms | ${writer_line[*]} |"
  echo
  echo "Added at p50: admin $(awk -v a="$admin" -v b="$base" 'BEGIN { printf "%+.3f", a - b }') ms, writer $(awk -v a="$writer" -v b="$base" 'BEGIN { printf "%+.3f", a - b }') ms (target < 1 ms)."
  echo
  echo "berth audit verify, $entries entries: ${verify_median} s wall clock for the CLI (runs: ${verify_s[*]}; server-side: ${server_s[*]} s; server peak RSS $((rss_kb / 1024)) MiB). Target < 10 s."
} | tee "$report"
