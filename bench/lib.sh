# Helpers shared by the benchmark scripts. Source it; do not run it.

bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$bench_root/.." && pwd)"
work="${BENCH_WORK:-/tmp/berth-bench}"
bin="$work/bin"
data="$work/data"
mkdir -p "$work" "$data"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mbps() { awk -v bytes="$1" -v s="$2" 'BEGIN { printf "%.0f", bytes / s / 1000000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || shuf -i 20000-60000 -n 1; }

wait_http() { # url [seconds]
  local deadline=$(( $(date +%s) + ${2:-30} ))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timeout waiting for $1" >&2; return 1; }
    sleep 0.02
  done
}

ensure_packages() {
  local missing=()
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v nginx >/dev/null || missing+=(nginx-light)
  command -v wrk >/dev/null || missing+=(wrk)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

build_berth() {
  log "publishing berth (Release)"
  dotnet publish "$repo_root/src/Berth.Cli" -c Release -o "$bin" -nologo -v quiet >/dev/null
}

make_file() { # path bytes
  if [ ! -f "$1" ] || [ "$(stat -c %s "$1")" != "$2" ]; then
    log "creating $1 ($2 bytes of random data)"
    head -c "$2" /dev/urandom > "$1"
  fi
}

# Berth server: start_berth <dir> [extra args] -> sets BERTH_PID, BERTH_URL, BERTH_TOKEN
start_berth() {
  local dir="$1"; shift
  [ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$dir"
  local port; port=$(free_port)
  BERTH_URL="http://127.0.0.1:$port"
  "${BERTH_BIN:-$bin}/berth" serve --data "$dir" --urls "$BERTH_URL" "$@" > "$dir.log" 2>&1 &
  BERTH_PID=$!
  wait_http "$BERTH_URL/readyz" "${BERTH_START_TIMEOUT:-60}"
  BERTH_TOKEN=$(cat "$dir/admin-token")
  export BERTH_URL BERTH_TOKEN
}

stop_berth() { kill "$BERTH_PID" 2>/dev/null || true; wait "$BERTH_PID" 2>/dev/null || true; }

peak_rss_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }

# docker-registry with a throwaway filesystem store: start_registry <dir> -> REGISTRY_URL, REGISTRY_PID
start_registry() {
  local dir="$1"
  rm -rf "$dir"; mkdir -p "$dir/data"
  local port; port=$(free_port)
  cat > "$dir/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
  redirect:
    disable: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: $(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
health:
  storagedriver:
    enabled: false
YML
  docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 < /dev/null &
  REGISTRY_PID=$!
  REGISTRY_URL="http://127.0.0.1:$port"
  wait_http "$REGISTRY_URL/v2/" 30
}

stop_registry() { kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; }

# nginx serving a folder: start_nginx <root> <dir> -> NGINX_URL
start_nginx() {
  local root="$1" dir="$2"
  rm -rf "$dir"; mkdir -p "$dir"
  local port; port=$(free_port)
  cat > "$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server { listen 127.0.0.1:$port; root $root; }
}
CONF
  nginx -c "$dir/nginx.conf" &
  NGINX_PID=$!
  NGINX_URL="http://127.0.0.1:$port"
}

stop_nginx() { kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; }
