#!/usr/bin/env bash
# The Python client's run logging (issue 13) against a real berth serve: what run.log costs in the training loop,
# and how long after the last call 1,000,000 points have all reached the server.
# Writes bench/results/python-runs.md (copy the numbers into docs/benchmarks.md).
#
#   bench/python-runs.sh                       RUNS=3 runs, medians reported (each run a fresh run of a model)
#   BERTH_BIN=src/Berth.Cli/bin/Release/net10.0 bench/python-runs.sh    use that berth build instead of publishing one
#   CALLS=100000 RUNS=1 bench/python-runs.sh   a quick look
#
# A warm-up run (100,000 calls) comes first and is not counted. Each run then starts a run, calls
# run.log({"loss": l, "acc": a}, step=i) CALLS times (2 points a call: 1,000,000 points by default) as fast as Python
# loops, then run.flush(). The mean cost of a call is the loop's time over CALLS: the sender threads write and send
# batches meanwhile, so it includes what they take from the training loop through the GIL, and on a loaded machine
# the time other processes hold the CPU; the CPU times per call (the loop's thread, the whole process) are reported
# too. "Delivered" is the time from the last call until the server acknowledged the last point. A second pass times
# every call of a 200,000-call loop with perf_counter_ns (its ~0.1 µs overhead included) for the percentiles.
# Finally the series API must count every point exactly once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
CALLS=${CALLS:-500000}
PY=${PYTHON:-/usr/bin/python3}
results="$bench_root/results"
report="$results/python-runs.md"
mkdir -p "$results"
export PYTHONPATH="$repo_root/clients/python/src"
export BERTH_CONFIG="$work/py/config.json" BERTH_CACHE_DIR="$work/py/cache"

if [ -z "${BERTH_BIN:-}" ] && { [ "${REBUILD:-0}" = 1 ] || [ ! -x "$bin/berth" ]; }; then build_berth; fi
start_berth "$work/py-runs-berth" --no-fsync
trap 'stop_berth; [ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$work/py-runs-berth"' EXIT
log "berth serve on $BERTH_URL (pid $BERTH_PID)"

bench_py() { # run number [calls] -> one line: mean_us delivered_s total_s p50 p99 p999 max dropped thread_cpu_us process_cpu_us
  "$PY" - "$1" "${2:-$CALLS}" <<'PY'
import sys, time
import berth

run_no, calls = int(sys.argv[1]), int(sys.argv[2])
client = berth.Client()
with client.start_run("bench/python-runs", name=f"bench {run_no}") as run:
    log = run.log
    start, thread_cpu, process_cpu = time.perf_counter(), time.thread_time(), time.process_time()
    for i in range(calls):
        log({"loss": 1.0 / (i + 1), "acc": i / calls}, step=i)
    last_call = time.perf_counter()
    thread_cpu, process_cpu = time.thread_time() - thread_cpu, time.process_time() - process_cpu
    assert run.flush(600), "not delivered within 10 minutes"
    delivered = time.perf_counter()
    sent, dropped = run.sent_points, run.dropped_points
series = client.run_series(run.ref, "loss", points=10).count + client.run_series(run.ref, "acc", points=10).count
assert series == 2 * calls and sent == 2 * calls, (series, sent, dropped)

# Percentiles: every call timed, in a run of its own (the sender busy as above).
samples = min(calls, 200_000)
durations = [0] * samples
clock = time.perf_counter_ns
with client.start_run("bench/python-runs", name=f"latency {run_no}") as timed:
    log = timed.log
    for i in range(samples):
        t0 = clock()
        log({"loss": 1.0 / (i + 1), "acc": i / samples}, step=i)
        durations[i] = clock() - t0
durations.sort()
q = lambda f: durations[min(samples - 1, int(f * samples))] / 1000
print(f"{(last_call - start) / calls * 1e6:.2f} {delivered - last_call:.2f} {delivered - start:.2f} "
      f"{q(0.5):.2f} {q(0.99):.2f} {q(0.999):.1f} {durations[-1] / 1000:.0f} {dropped} "
      f"{thread_cpu / calls * 1e6:.2f} {process_cpu / calls * 1e6:.2f}")
PY
}

log "warm-up: 100,000 calls (the server's JIT, the page cache), not counted"
bench_py 0 100000 >/dev/null

mean=() delivered=() total=() p50=() p99=() p999=() maxes=() drops=() tcpu=() pcpu=()
for run in $(seq "$RUNS"); do
  log "run $run/$RUNS: $CALLS calls of run.log (2 points each), then flush"
  read -r m d t a b c x dr tc pc < <(bench_py "$run")
  mean+=("$m") delivered+=("$d") total+=("$t") p50+=("$a") p99+=("$b") p999+=("$c") maxes+=("$x") drops+=("$dr") tcpu+=("$tc") pcpu+=("$pc")
  log "  mean $m µs/call (CPU: loop thread $tc, process $pc), delivered $d s after the last call (total $t s); p50 $a µs, p99 $b µs, p99.9 $c µs, max $x µs; dropped $dr"
done

med() { printf '%s\n' "$@" | median; }
points=$((CALLS * 2))
{
  echo "## Python run logging ($(date +%F), RUNS=$RUNS)"
  echo
  echo "$(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM;"
  echo "$("$PY" --version) ($PY); berth serve --no-fsync (SQLite) on the same machine."
  echo
  echo "| measurement | median | all runs |"
  echo "| --- | --- | --- |"
  echo "| \`run.log({\"loss\": l, \"acc\": a}, step=i)\`, mean per call over $CALLS calls, sender running | $(med "${mean[@]}") µs | ${mean[*]} |"
  echo "| the same, CPU time per call: of the loop's thread / of the whole process (the sender threads' share included) | $(med "${tcpu[@]}") / $(med "${pcpu[@]}") µs | ${tcpu[*]} / ${pcpu[*]} |"
  echo "| per call p50 / p99 / p99.9 / max (200,000 calls timed one by one) | $(med "${p50[@]}") / $(med "${p99[@]}") / $(med "${p999[@]}") / $(med "${maxes[@]}") µs | p99: ${p99[*]} |"
  echo "| $points points on the server, after the last call | $(med "${delivered[@]}") s | ${delivered[*]} |"
  echo "| first call to last point acknowledged | $(med "${total[@]}") s | ${total[*]} |"
  echo "| points dropped (buffer full) | $(med "${drops[@]}") | ${drops[*]} |"
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$report"
