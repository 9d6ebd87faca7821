#!/usr/bin/env bash
# The Python client against the berth CLI, in one run on one server: pushing a new 1 GiB file (hashing
# included, digest cache empty), pulling it (verified), and re-pushing it unchanged with the digest cache warm.
# Writes bench/results/python-transfer.md (copy the numbers into docs/benchmarks.md).
#
#   bench/python-transfer.sh               RUNS=3 alternating runs of each; medians are reported
#   REBUILD=1 bench/python-transfer.sh     publish berth again even if $BENCH_WORK/bin/berth exists
#
# The CLI is the published (ReadyToRun) build, as users run it; the client runs on /usr/bin/python3 from
# clients/python/src. Each timing is the whole command: start of the process, import, transfer, exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
GIB=$((1024 * 1024 * 1024))
PY=${PYTHON:-/usr/bin/python3}
results="$bench_root/results"
report="$results/python-transfer.md"
mkdir -p "$results"
export PYTHONPATH="$repo_root/clients/python/src"
export BERTH_CONFIG="$work/py/config.json" BERTH_CACHE_DIR="$work/py/cache"

if [ "${REBUILD:-0}" = 1 ] || [ ! -x "$bin/berth" ]; then build_berth; fi
mkdir -p "$data/py-1g"
file="$data/py-1g/weights.bin"
make_file "$file" "$GIB"

# New bytes for every push (the first bytes change); modification time an hour back, so that the digest cache
# records entries it trusts at once (a file written in the last 2 s is always hashed again).
new_content() {
  printf 'run %s %s' "$1" "$(date +%s%N)" | dd of="$file" conv=notrunc status=none
  touch -d '1 hour ago' "$file"
}

timed() { # command... → seconds
  local s; s=$(now)
  "$@" >/dev/null
  elapsed "$s" "$(now)"
}

cli_push() { "$bin/berth" push "$data/py-1g" "$1" --json; }
py_push() { "$PY" -c 'import sys, berth; print(f"{berth.Client().push(sys.argv[1], sys.argv[2], progress=False).elapsed:.3f}")' "$data/py-1g" "$1"; }
cli_pull() { "$bin/berth" pull "$1" -o "$2" --json; }
py_pull() { "$PY" -c 'import sys, berth; berth.Client().pull(sys.argv[1], sys.argv[2], progress=False)' "$1" "$2"; }

start_berth "$work/py-berth" --no-fsync
# Every run stores a new GiB: drop the server's data folder at the end (KEEP_DATA=1 keeps it).
trap 'stop_berth; [ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$work/py-berth" "$work/pull-cli" "$work/pull-py"' EXIT
log "berth serve on $BERTH_URL; warm-up pushes and pulls"
for warm in 1 2; do
  new_content "warm-cli-$warm"; rm -rf "$BERTH_CACHE_DIR"; cli_push bench/cli >/dev/null
  new_content "warm-py-$warm"; rm -rf "$BERTH_CACHE_DIR"; py_push bench/py >/dev/null
done
rm -rf "$work/pull-warm"; cli_pull bench/cli "$work/pull-warm" >/dev/null; rm -rf "$work/pull-warm"

cli_push_s=() py_push_s=() cli_pull_s=() py_pull_s=() cli_same_s=() py_same_s=() py_same_call_s=()
cli_pushes() {
  new_content "cli-$run"; rm -rf "$BERTH_CACHE_DIR"; cli_push_s+=("$(timed cli_push bench/cli)")
  cli_same_s+=("$(timed cli_push bench/cli)")             # unchanged, the cache warm from the push before
}
py_pushes() {
  new_content "py-$run"; rm -rf "$BERTH_CACHE_DIR"; py_push_s+=("$(timed py_push bench/py)")
  local s; s=$(now)
  py_same_call_s+=("$(py_push bench/py)")                 # seconds inside push(), without starting Python
  py_same_s+=("$(elapsed "$s" "$(now)")")
}
cli_pulls() { rm -rf "$work/pull-cli"; sync; cli_pull_s+=("$(timed cli_pull bench/cli "$work/pull-cli")"); }
py_pulls() { rm -rf "$work/pull-py"; sync; py_pull_s+=("$(timed py_pull bench/cli "$work/pull-py")"); }

# Odd runs measure the CLI first, even runs the client: whoever comes second meets a server (and a page cache)
# still busy with the first one's gigabyte.
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: pushes of a new 1 GiB file (digest cache empty), then pulls of 1 GiB (verified)"
  if [ $((run % 2)) = 1 ]; then cli_pushes; py_pushes; cli_pulls; py_pulls; else py_pushes; cli_pushes; py_pulls; cli_pulls; fi
  cmp "$work/pull-cli/weights.bin" "$work/pull-py/weights.bin"
  rm -rf "$work/pull-cli" "$work/pull-py"
done

med() { printf '%s\n' "$@" | median; }
cli_push=$(med "${cli_push_s[@]}") py_push=$(med "${py_push_s[@]}")
cli_pull=$(med "${cli_pull_s[@]}") py_pull=$(med "${py_pull_s[@]}")
cli_same=$(med "${cli_same_s[@]}") py_same=$(med "${py_same_s[@]}") py_same_call=$(med "${py_same_call_s[@]}")
percent() { awk -v cli="$1" -v py="$2" 'BEGIN { printf "%.0f%%", 100 * cli / py }'; }

{
  echo "## Python client vs berth CLI ($(date +%F), RUNS=$RUNS)"
  echo
  echo "$(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM;"
  echo "$("$PY" --version) ($PY); berth $("$bin/berth" --version 2>/dev/null | head -1) (published, ReadyToRun); server with --no-fsync."
  echo
  echo "| measurement | berth CLI | Python client | Python throughput vs CLI |"
  echo "| --- | --- | --- | --- |"
  echo "| push, new 1 GiB file, digest cache empty | $cli_push s ($(mbps "$GIB" "$cli_push") MB/s) | $py_push s ($(mbps "$GIB" "$py_push") MB/s) | $(percent "$cli_push" "$py_push") |"
  echo "| pull, 1 GiB, verified | $cli_pull s ($(mbps "$GIB" "$cli_pull") MB/s) | $py_pull s ($(mbps "$GIB" "$py_pull") MB/s) | $(percent "$cli_pull" "$py_pull") |"
  echo "| re-push of the unchanged 1 GiB file, digest cache warm | $cli_same s | $py_same s (of which push() $(printf '%.3f' "$py_same_call") s) | |"
  echo
  echo "All runs (s): CLI push ${cli_push_s[*]}; Python push ${py_push_s[*]}; CLI pull ${cli_pull_s[*]}; Python pull ${py_pull_s[*]};"
  echo "CLI unchanged ${cli_same_s[*]}; Python unchanged ${py_same_s[*]} (inside push(): ${py_same_call_s[*]})."
  echo "Load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$report"
