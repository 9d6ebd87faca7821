#!/usr/bin/env bash
# Training-run metrics (issue 12, docs/runs.md) on SQLite and PostgreSQL: ingestion from one client, downsampled
# reads of a 5 x 1,000,000-point run, comparisons of 10 runs on one metric. Prints one line per database.
#
#   bench/runs.sh                               both databases (PostgreSQL: BENCH_PG, a connection string to a
#                                               server where the user may create databases; default: the
#                                               developer server of /work/dev/env.sh)
#   SKIP_POSTGRES=1 bench/runs.sh               SQLite only
#   STEPS=100000 RUNS_N=3 bench/runs.sh         a quick run
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STEPS=${STEPS:-1000000}
RUNS_N=${RUNS_N:-10}
# BERTH_BIN / BENCH_BIN: folders holding an already built berth / berth-bench (skips building them).
[ -n "${BERTH_BIN:-}" ] || build_berth
bench_bin="${BENCH_BIN:-$work/bench-bin}"
if [ -z "${BENCH_BIN:-}" ]; then
  log "building berth-bench"
  dotnet build "$bench_root/Berth.Bench" -c Release -o "$bench_bin" -nologo -v quiet >/dev/null
fi

measure() { # label [serve args]
  local label="$1"; shift
  BERTH_Runs__HeartbeatTimeout=01:00:00 start_berth "$work/runs-$label" "$@"
  log "$label: berth-bench run-metrics ($STEPS steps, $RUNS_N runs)"
  "$bench_bin/berth-bench" run-metrics --url "$BERTH_URL" --token "$BERTH_TOKEN" --steps "$STEPS" --runs "$RUNS_N" \
    | sed "s/^/$label /" | tee -a "$work/runs-results.txt"
  stop_berth
}

: > "$work/runs-results.txt"
echo "machine: $(nproc) cores ($(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | xargs)), $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo) RAM; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work/runs-results.txt"
[ "${SKIP_SQLITE:-0}" = 1 ] || measure sqlite

if [ "${SKIP_POSTGRES:-0}" != 1 ]; then
  if [ -z "${BENCH_PG:-}" ]; then
    # shellcheck disable=SC1091
    source /work/dev/env.sh
    BENCH_PG="$BERTH_TEST_POSTGRES_DEV"
  fi
  db="berth_runs_bench_$$"
  psql_conn() { # the connection string as psql arguments
    local host port user pass
    host=$(sed -n 's/.*Host=\([^;]*\).*/\1/p' <<<"$BENCH_PG"); port=$(sed -n 's/.*Port=\([^;]*\).*/\1/p' <<<"$BENCH_PG")
    user=$(sed -n 's/.*Username=\([^;]*\).*/\1/p' <<<"$BENCH_PG"); pass=$(sed -n 's/.*Password=\([^;]*\).*/\1/p' <<<"$BENCH_PG")
    PGPASSWORD="$pass" "${BERTH_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/psql" -h "$host" -p "${port:-5432}" -U "$user" -d postgres -qAt -c "$1"
  }
  psql_conn "CREATE DATABASE $db"
  trap 'psql_conn "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true' EXIT
  conn=$(sed "s/Database=[^;]*/Database=$db/" <<<"$BENCH_PG")
  measure postgres --db "$conn"
fi
cat "$work/runs-results.txt"
