#!/usr/bin/env bash
# Runs Berth's whole test suite: builds the solution, then runs every test on SQLite and the tests marked
# [Trait("Database", "both")] again on PostgreSQL (see the loop below), and ends with one line "N passed, N failed"
# (", N skipped" when some were skipped) summing both runs. Installs or starts whatever the tests need: the .NET SDK must be there (pinned by global.json);
# PostgreSQL (15, or the newest installed) runs as a throwaway server of this script's own, in a temporary
# folder, on 127.0.0.1 and a free port, and is stopped and deleted at the end (its binaries are installed for
# both runs: the PostgreSQL restart tests start a server of their own on either). So does a real S3 engine for the
# S3 blob-store tests: Ceph's radosgw (scripts/radosgw-up.sh; Debian's ceph-mon, ceph-osd and radosgw packages,
# installed with apt-get when missing and run as root). If it cannot start, the run fails: those tests never skip.
# The web UI's browser tests need Debian's Chromium, installed with apt-get when missing.
#
# Usage: scripts/test.sh [--db sqlite|postgres|both] [extra dotnet test arguments, e.g. --filter-class '*UploadTests']
#   --db   which database(s) to run the suite on (default: both)
set -euo pipefail

# The closing line, printed however the script ends: a run that failed before any test ran (the build, or
# starting PostgreSQL or radosgw) still ends with "0 passed, 1 failed", never without a summary.
# It is also written to artifacts/test-summary.txt, which .ci/run repeats as the last line of CI's output.
passed=0 failed=0 skipped=0 status=0 summarized=0
summary_file="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/artifacts/test-summary.txt"
summarize() {
  summarized=1
  local line="$passed passed, $failed failed"
  if [ "$skipped" -gt 0 ]; then line="$line, $skipped skipped"; fi
  echo "$line"
  mkdir -p "$(dirname "$summary_file")" && echo "$line" >"$summary_file" || true
}

stop_all() {
  local code=$?
  if declare -F stop_postgres >/dev/null; then stop_postgres; fi
  if declare -F stop_radosgw >/dev/null; then stop_radosgw; fi
  if [ "$summarized" -eq 0 ]; then
    if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    summarize
  fi
}
trap stop_all EXIT

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

databases="sqlite postgres"
if [ "${1:-}" = "--db" ]; then
  case "${2:-}" in
    sqlite | postgres) databases="$2" ;;
    both) ;;
    *) echo "error: --db takes sqlite, postgres or both, not '${2:-}'." >&2; exit 2 ;;
  esac
  shift 2
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK is required (see global.json for the version); install it from your package manager or Microsoft's installer." >&2
  exit 2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

# ---- PostgreSQL: a throwaway server (scripts/postgres.sh) ----------------------------------------------
PG_MISSING_FOR=" (the PostgreSQL run and the tests that restart a server of their own use it)" PG_MISSING_HINT=""
# shellcheck source=scripts/postgres.sh
source "$root/scripts/postgres.sh"

# ---- S3: a throwaway radosgw ----------------------------------------------------------------------------
rgw_dir=""

stop_radosgw() {
  if [ -n "$rgw_dir" ]; then
    "$root/scripts/radosgw-down.sh" "$rgw_dir" --purge >/dev/null 2>&1 || true
    rm -rf "$rgw_dir"
  fi
}

start_radosgw() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: the S3 tests need a throwaway Ceph radosgw, which this script starts as root (scripts/radosgw-up.sh); run it as root." >&2
    exit 2
  fi

  rgw_dir="$(mktemp -d "${TMPDIR:-/tmp}/berth-test-rgw.XXXXXX")"
  # Free ports for radosgw, the monitor (and its v1 port) and the OSD's range, in one random block of 64.
  local attempt base="" env=""
  for attempt in 1 2 3 4 5; do
    base=$((20000 + (RANDOM % 600) * 64))
    if (exec 3<>"/dev/tcp/127.0.0.1/$base") 2>/dev/null || (exec 3<>"/dev/tcp/127.0.0.1/$((base + 1))") 2>/dev/null ||
      (exec 3<>"/dev/tcp/127.0.0.1/$((base + 2))") 2>/dev/null; then
      continue
    fi
    if env="$(OBJECTSTORE=memstore OSD_SIZE_GB=2 MON_PORT=$((base + 1)) OSD_PORTS="$((base + 10))-$((base + 60))" \
      "$root/scripts/radosgw-up.sh" "$rgw_dir" "$base" 2>"$rgw_dir.log")"; then
      break
    fi
    env=""
  done
  if [ -z "$env" ]; then
    echo "error: radosgw did not start; its log:" >&2
    cat "$rgw_dir.log" >&2 || true
    rm -f "$rgw_dir.log"
    exit 1
  fi
  rm -f "$rgw_dir.log"

  export BERTH_TEST_S3_ENDPOINT="$(sed -n 's/^S3_ENDPOINT=//p' <<<"$env")"
  export BERTH_TEST_S3_ACCESS_KEY="$(sed -n "s/^S3_ACCESS_KEY='\(.*\)'$/\1/p" <<<"$env")"
  export BERTH_TEST_S3_SECRET_KEY="$(sed -n "s/^S3_SECRET_KEY='\(.*\)'$/\1/p" <<<"$env")"
  echo "==> Ceph radosgw $(radosgw --version | awk '{print $3}') on $BERTH_TEST_S3_ENDPOINT"
}


trap 'exit 130' INT TERM

start_postgres() {
  start_postgres_server
  export BERTH_TEST_POSTGRES="$PG_CONNECTION"
  echo "==> PostgreSQL $("$pg_bin/postgres" -V | awk '{print $3}') on 127.0.0.1:$pg_port ($pg_locale)"
}

# ---- Chromium: the web UI's browser tests (tests/Berth.Web.Tests) drive Debian's browser -----------------
ensure_chromium() {
  if [ -x /usr/lib/chromium/chromium ]; then
    return
  fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Chromium (apt-get install chromium) for the web UI tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  else
    echo "error: the web UI tests need Chromium at /usr/lib/chromium/chromium (Debian: apt-get install chromium)." >&2
    exit 2
  fi
}

# ---- skopeo: the OCI round-trip tests (tests/Berth.Api.Tests/Oci/SkopeoTests.cs) use Debian's registry client ---
ensure_skopeo() {
  if command -v skopeo >/dev/null 2>&1; then
    return
  fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing skopeo (apt-get install skopeo) for the OCI round-trip tests"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends skopeo >/dev/null ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends skopeo >/dev/null; }
  else
    echo "error: the OCI tests need skopeo (Debian: apt-get install skopeo)." >&2
    exit 2
  fi
}

# ---- Python: Debian's packages for /usr/bin/python3 -------------------------------------------------------
# The model-insight tests (tests/Shared/Insight/make_corpus.py) make their corpus with the real libraries, and the
# Python client's tests use some of them too: installed with apt-get (as root) when missing, before any test runs.
python_packages_missing=""
ensure_python_packages() {
  local py=/usr/bin/python3 missing=() pair
  for pair in pytest:python3-pytest numpy:python3-numpy sklearn:python3-sklearn torch:python3-torch onnx:python3-onnx \
    joblib:python3-joblib h5py:python3-h5py; do
    [ -x "$py" ] && "$py" -c "import ${pair%%:*}" 2>/dev/null || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      echo "error: the tests need ${missing[*]} (Debian packages, for /usr/bin/python3); install them or run as root." >&2
      python_packages_missing="${missing[*]}"
      return
    fi
    echo "==> installing ${missing[*]} (Debian packages)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
  fi
}

# ---- build and test ------------------------------------------------------------------------------------
ensure_chromium
ensure_skopeo
ensure_python_packages
echo "==> building"
dotnet build Berth.slnx -c Release -nologo -clp:ErrorsOnly
# Both runs need the PostgreSQL binaries: besides the PostgreSQL run's shared server, some tests start and stop a
# server of their own (tests/Shared/Databases/ThrowawayPostgres.cs), which finds them through BERTH_TEST_PG_BIN.
ensure_pg_bin
export BERTH_TEST_PG_BIN="$pg_bin"
start_radosgw

# Sums the counters of the TRX reports in a folder: "passed failed skipped".
count() {
  cat "$1"/*.trx 2>/dev/null | tr '<' '\n' | awk '
    /^Counters / {
      for (i = 1; i <= NF; i++) {
        split($i, kv, "=");
        gsub(/[^0-9]/, "", kv[2]);
        if (kv[1] == "passed") p += kv[2];
        if (kv[1] == "failed" || kv[1] == "error" || kv[1] == "timeout" || kv[1] == "aborted") f += kv[2];
        if (kv[1] == "notExecuted") s += kv[2];
      }
    }
    END { printf "%d %d %d\n", p, f, s }'
}

for database in $databases; do
  # The SQLite pass runs every test. The PostgreSQL pass runs those marked [Trait("Database", "both")]: every API test
  # (tests/Berth.Api.Tests/AssemblyTraits.cs: the server over its database is what they check) but the few marked
  # [Trait("Database", "sqlite")] because their subject never reaches the database, and the classes elsewhere
  # whose behaviour depends on the engine (SQL search and paging, query plans, crash recovery, backups, replicas, gc).
  # The other CLI and browser tests drive the server through the same API, whichever engine is under it.
  only_db=()
  if [ "$database" = postgres ]; then
    start_postgres
    only_db=(--filter-trait "Database=both" --filter-not-trait "Database=sqlite")
  else
    unset BERTH_TEST_POSTGRES
  fi
  echo "==> testing on $database"
  started=$SECONDS
  run_status=0
  # A project none of whose tests a filter selects exits with 8 ("zero tests ran"): not a failure here (a run where
  # no test ran at all fails below).
  dotnet test --solution Berth.slnx -c Release --no-build --results-directory "$results/$database" --report-trx --ignore-exit-code 8 "${only_db[@]}" "$@" || run_status=$?

  # A test module that crashed writes no report: the exit status then makes the run fail even if every
  # report that exists is green.
  read -r p f s < <(count "$results/$database")
  if [ "$run_status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "error: dotnet test exited with status $run_status on $database although no test reported a failure (a test host crashed?)." >&2
    f=1
  fi
  echo "==> $database: $p tests passed, $f failed, $s skipped in $((SECONDS - started)) s"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  [ "$run_status" -eq 0 ] || status=$run_status

  if [ "$database" = postgres ]; then
    stop_postgres
    pg_dir=""
  fi
done

# ---- the Python client (clients/python/tests): pytest once, against a `berth serve` of its own ---------
# Debian's packages install for /usr/bin/python3, so that interpreter runs them; skipped when dotnet test
# arguments select a subset of the .NET tests.
python_tests() {
  local py=/usr/bin/python3 xml="$results/python/junit.xml" p f s
  if [ -n "$python_packages_missing" ]; then
    failed=$((failed + 1))
    return
  fi
  echo "==> testing the Python client"
  started=$SECONDS
  mkdir -p "$results/python"
  "$py" -m pytest clients/python/tests -q -p no:cacheprovider --junitxml="$xml" || status=$?
  read -r p f s < <("$py" - "$xml" <<'PY' 2>/dev/null || echo "0 1 0"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
count = lambda name: sum(int(x.get(name, 0)) for x in suites)
failed, skipped = count("failures") + count("errors"), count("skipped")
print(count("tests") - failed - skipped, failed, skipped)
PY
)
  echo "==> python: $p tests passed, $f failed, $s skipped in $((SECONDS - started)) s"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}
if [ $# -eq 0 ]; then
  python_tests
else
  echo "==> python: not run (dotnet test arguments given)"
fi

# Failed tests (with the first lines of their messages) and where the time went, just above the closing line.
if command -v python3 >/dev/null 2>&1; then python3 scripts/test-report.py "$results" || true; fi

if [ $((passed + failed)) -eq 0 ]; then
  echo "error: no test ran." >&2
  failed=1
fi
summarize
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
