#!/usr/bin/env bash
# Runs Berth's whole test suite: builds the solution, then runs every test project twice, on SQLite and on
# PostgreSQL, and ends with one line "N passed, N failed" (", N skipped" when some were skipped) summing
# both runs. Installs or starts whatever the tests need: the .NET SDK must be there (pinned by global.json);
# PostgreSQL (15, or the newest installed) runs as a throwaway server of this script's own, in a temporary
# folder, on 127.0.0.1 and a free port, and is stopped and deleted at the end (its binaries are installed for
# both runs: the PostgreSQL restart tests start a server of their own on either). So does a real S3 engine for the
# S3 blob-store tests: Ceph's radosgw (scripts/radosgw-up.sh; Debian's ceph-mon, ceph-osd and radosgw packages,
# installed with apt-get when missing and run as root). If it cannot start, the run fails: those tests never skip.
#
# Usage: scripts/test.sh [--db sqlite|postgres|both] [extra dotnet test arguments, e.g. --filter-class '*UploadTests']
#   --db   which database(s) to run the suite on (default: both)
set -euo pipefail

# The closing line, printed however the script ends: a run that failed before any test ran (the build, or
# starting PostgreSQL or radosgw) still ends with "0 passed, 1 failed", never without a summary.
passed=0 failed=0 skipped=0 status=0 summarized=0
summarize() {
  summarized=1
  if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
  else
    echo "$passed passed, $failed failed"
  fi
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

# ---- PostgreSQL: a throwaway server --------------------------------------------------------------------
pg_bin=""
pg_dir=""
pg_user=""

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

# PostgreSQL refuses to run as root: as root, its commands run as the 'postgres' user of the Debian package
# (or a system user made for this).
as_pg() {
  if [ -n "$pg_user" ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}

stop_postgres() {
  if [ -n "$pg_dir" ]; then
    if [ -f "$pg_dir/data/postmaster.pid" ]; then
      as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$pg_dir"
  fi
}
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

# The PostgreSQL binaries, installed if missing. Both runs need them: besides the PostgreSQL run's shared server,
# some tests start and stop a PostgreSQL server of their own (tests/Shared/Databases/ThrowawayPostgres.cs), which
# finds the binaries through BERTH_TEST_PG_BIN.
ensure_pg_bin() {
  if ! pg_bin="$(find_pg_bin)"; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "==> installing PostgreSQL (Debian package)"
      # The package would create and start a cluster of its own; this script needs none.
      mkdir -p /etc/postgresql-common
      grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf ||
        echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
      pg_bin="$(find_pg_bin)"
    else
      echo "error: the PostgreSQL server (initdb, pg_ctl) is required (the PostgreSQL run, and the tests that restart a PostgreSQL server of their own); install it (Debian: apt-get install postgresql)." >&2
      exit 2
    fi
  fi
  export BERTH_TEST_PG_BIN="$pg_bin"
}

start_postgres() {
  pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/berth-test-pg.XXXXXX")"
  if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then pg_user=postgres; else
      id berth-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin berth-pg
      pg_user=berth-pg
    fi
    chmod 711 "$pg_dir"
    local parent
    parent="$(dirname "$pg_dir")"
    while [ "$parent" != "/" ]; do # the server's user must be able to reach its folder
      runuser -u "$pg_user" -- test -x "$parent" || chmod o+x "$parent"
      parent="$(dirname "$parent")"
    done
    install -d -o "$pg_user" -m 700 "$pg_dir/data" "$pg_dir/run"
  else
    install -d -m 700 "$pg_dir/data" "$pg_dir/run"
  fi

  # Databases default to a linguistic collation (ICU's en-US), as most production servers do, so the tests
  # show that Berth compares and sorts text the same way whatever the server's locale. Without ICU support:
  # the C.UTF-8 locale, or C.
  local locale
  for locale in "--locale-provider=icu --icu-locale=en-US --locale=C.UTF-8" "--locale=C.UTF-8" "--locale=C"; do
    rm -rf "${pg_dir:?}/data/"*
    # shellcheck disable=SC2086 # the locale options are meant to split
    if as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 $locale --no-sync >"$pg_dir/run/initdb.log" 2>&1; then
      break
    fi
    locale=""
  done
  if [ -z "$locale" ]; then
    echo "error: initdb failed:" >&2
    cat "$pg_dir/run/initdb.log" >&2
    exit 1
  fi
  # Throwaway data: no fsync (a crash of the machine loses it, which is fine); commits stay synchronous.
  cat >>"$pg_dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pg_dir/run'
fsync = off
full_page_writes = off
synchronous_commit = on
max_connections = 300
log_min_messages = warning
EOF

  # A free port: one nothing answers on; if the server loses it to someone else before it binds, try another.
  local attempt port=""
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    if as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/run/server.log" -o "-p $port" -w -t 60 start >/dev/null; then
      break
    fi
    port=""
  done
  if [ -z "$port" ]; then
    echo "error: PostgreSQL did not start; its log:" >&2
    cat "$pg_dir/run/server.log" >&2 || true
    exit 1
  fi

  # The tests connect like Berth in production: over TCP, with a password, as a role that is no superuser
  # (it may create databases: each test server gets a fresh one).
  local password
  password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  as_pg "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_dir/run" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE berth LOGIN CREATEDB PASSWORD '$password'" >/dev/null
  export BERTH_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=berth;Password=$password;Database=postgres"
  echo "==> PostgreSQL $("$pg_bin/postgres" -V | awk '{print $3}') on 127.0.0.1:$port ($locale)"
}

# ---- build and test ------------------------------------------------------------------------------------
echo "==> building"
dotnet build Berth.slnx -c Release -nologo -clp:ErrorsOnly
ensure_pg_bin
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
  if [ "$database" = postgres ]; then
    start_postgres
  else
    unset BERTH_TEST_POSTGRES
  fi

  echo "==> testing on $database"
  started=$SECONDS
  run_status=0
  # A project none of whose tests a filter selects exits with 8 ("zero tests ran"): not a failure here (a run where
  # no test ran at all fails below).
  dotnet test --solution Berth.slnx -c Release --no-build --results-directory "$results/$database" --report-trx --ignore-exit-code 8 "$@" || run_status=$?

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

if [ $((passed + failed)) -eq 0 ]; then
  echo "error: no test ran." >&2
  failed=1
fi
summarize
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
