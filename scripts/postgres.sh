# A throwaway PostgreSQL server (15, or the newest installed), for scripts/test.sh and the benchmarks. Source it;
# do not run it. As root it installs the Debian package when no server is installed, and runs the server as the
# package's 'postgres' user (or a system user made for this), in a temporary folder, on 127.0.0.1 and a free port.
#
#   ensure_pg_bin              finds (or installs) the server's binaries: sets pg_bin
#   start_postgres_server      starts it; sets pg_bin, pg_dir, pg_port, pg_locale, pg_password and PG_CONNECTION, a
#                              connection string for the role 'berth' (a login with a password over TCP, no superuser,
#                              may create databases; Database=postgres)
#   stop_postgres              stops it and deletes its folder
#   pg_superuser_sql SQL [db]  runs SQL as the superuser (over the server's Unix socket)
#
# Settings (set before start_postgres_server):
#   PG_FSYNC            'off' (default: throwaway data, a crash of the machine loses it; commits stay synchronous)
#                       or 'on' (durable, as in production: for benchmarks)
#   PG_EXTRA_CONF       more postgresql.conf lines (e.g. "shared_buffers = 1GB")
#   PG_MISSING_FOR, PG_MISSING_HINT   words added to the error when no server is installed: "… is required$PG_MISSING_FOR;
#                       install it (Debian: apt-get install postgresql)$PG_MISSING_HINT."
pg_bin=""
pg_dir=""
pg_user=""
pg_port=""
pg_locale=""
pg_password=""
PG_CONNECTION=""

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

pg_superuser_sql() {
  as_pg "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_dir/run" -p "$pg_port" -U postgres -d "${2:-postgres}" -c "$1"
}

# Sets pg_bin to the server's binaries, installing the Debian package (as root) when none is installed.
ensure_pg_bin() {
  if pg_bin="$(find_pg_bin)"; then
    return 0
  fi
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
    echo "error: the PostgreSQL server (initdb, pg_ctl) is required${PG_MISSING_FOR:-}; install it (Debian: apt-get install postgresql)${PG_MISSING_HINT:-}." >&2
    exit 2
  fi
}

start_postgres_server() {
  ensure_pg_bin

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
  pg_locale="$locale"
  # By default throwaway data: no fsync (a crash of the machine loses it, which is fine); commits stay synchronous.
  local fsync="${PG_FSYNC:-off}"
  cat >>"$pg_dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pg_dir/run'
fsync = $fsync
full_page_writes = $fsync
synchronous_commit = on
max_connections = 300
log_min_messages = warning
${PG_EXTRA_CONF:-}
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
  pg_port="$port"

  # Clients connect like Berth in production: over TCP, with a password, as a role that is no superuser (it may
  # create databases: each test server gets a fresh one).
  pg_password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  pg_superuser_sql "CREATE ROLE berth LOGIN CREATEDB PASSWORD '$pg_password'" >/dev/null
  PG_CONNECTION="Host=127.0.0.1;Port=$port;Username=berth;Password=$pg_password;Database=postgres"
}
