#!/usr/bin/env bash
# Web UI at scale: seeds MODELS models (one, scale-000/big, with BIG_VERSIONS versions) with 'berth-bench seed', starts
# 'berth serve' and measures, one request at a time, the server time of each page (curl's time to the last byte on
# 127.0.0.1, signed in with the administrator's token; WARMUP requests first, then REQUESTS measured): the dashboard,
# its searches (filter and words: dense, sparse, matching nothing), a namespace, the big model, one of its versions, a
# comparison, the requests inbox and the audit log. Then the first load's transfer size (the dashboard's HTML and every
# /static asset it links, as sent to a browser that accepts Brotli and gzip). Writes bench/results/ui.md (copy the
# numbers into docs/benchmarks.md).
#
#   bench/ui.sh                                       SQLite (default sizes: 100,000 models, 10,000 versions in one)
#   POSTGRES="Host=…;Database=<empty db>;…" bench/ui.sh   on an empty PostgreSQL database instead
#   MODELS=10000 BIG_VERSIONS=1000 REQUESTS=50 bench/ui.sh   smaller and quicker
#   BERTH_BIN=<folder with berth> bench/ui.sh         use an existing build instead of publishing one
#   KEEP_DATA=1 bench/ui.sh                           measure again on the data a previous run seeded (same sizes)
#   ONLY='search|words' bench/ui.sh                   measure only the pages whose name matches this regular expression
set -euo pipefail
export BENCH_WORK="${BENCH_WORK:-/tmp/berth-ui-bench}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODELS=${MODELS:-100000}
BIG_VERSIONS=${BIG_VERSIONS:-10000}
VERSIONS=${VERSIONS:-$((MODELS + BIG_VERSIONS))}
NAMESPACES=${NAMESPACES:-100}
WARMUP=${WARMUP:-20}
REQUESTS=${REQUESTS:-200}
results="$bench_root/results"
mkdir -p "$results"
report="$results/ui.md"
bench_bin="$work/bench-bin"

pid=""
cleanup() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${BERTH_BIN:-}" ]; then bin="$BERTH_BIN"; else build_berth; fi

dir="$work/data-ui"
# KEEP_DATA=1 reuses the data folder (and database) a previous run seeded: no first start, no seeding.
reuse=0
if [ "${KEEP_DATA:-0}" = 1 ] && [ -f "$dir/admin-token" ]; then reuse=1; else rm -rf "$dir" "$dir.log"; fi
db_args=() seed_db="$dir" label=SQLite
if [ -n "${POSTGRES:-}" ]; then db_args=(--db "$POSTGRES") seed_db="$POSTGRES" label=PostgreSQL; fi

serve() {
  local port; port=$(free_port)
  url="http://127.0.0.1:$port"
  "$bin/berth" serve --data "$dir" --urls "$url" "${db_args[@]}" >> "$dir.log" 2>&1 &
  pid=$!
  wait_http "$url/readyz" 120
}

seed_note="The data was seeded by an earlier run (KEEP_DATA=1)."
if [ "$reuse" = 0 ]; then
  log "$label: first start (migrations, administrator)"
  serve; kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  log "building berth-bench (Release)"
  dotnet build "$bench_root/Berth.Bench" -c Release -o "$bench_bin" -nologo -v quiet -clp:ErrorsOnly >/dev/null
  log "$label: seeding $MODELS models, $VERSIONS versions ($BIG_VERSIONS in scale-000/big)"
  s=$(now)
  "$bench_bin/berth-bench" seed --db "$seed_db" --models "$MODELS" --versions "$VERSIONS" --big-model-versions "$BIG_VERSIONS" --namespaces "$NAMESPACES" >&2
  seed_note="Seeding took $(elapsed "$s" "$(now)") s."
else
  log "$label: reusing the data seeded in $dir (KEEP_DATA=1)"
fi
serve
token=$(cat "$dir/admin-token")
auth=(-H "Authorization: Bearer $token")
# A little of everything for the pages that show activity: a promotion (audit entry, history) and an open request.
curl -fsS "${auth[@]}" -X PUT -H 'Content-Type: application/json' -d '{"stage":"staging","comment":"bench"}' \
  "$url/api/v1/models/scale-000/big/versions/$((BIG_VERSIONS / 2))/stage" >/dev/null || log "note: could not change a stage"

big_mid=$((BIG_VERSIONS / 2))
q() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
# The searches: a dense filter and words that match the newest models (a page fills at once); a sparse filter (about 100
# models), words matching 10 of the oldest models, and a typo of each (matching nothing), which must not read every model.
pages=(
  "dashboard|/"
  "dashboard, filter search|/?q=$(q "metrics.auc >= 0.9 and stage = 'production'")"
  "dashboard, sparse filter|/?q=$(q "metrics.auc >= 0.9995")"
  "dashboard, filter matching nothing|/?q=$(q "metrics.acu > 0.9")"
  "dashboard, words search|/?q=model-0999"
  "dashboard, rare words|/?q=model-00012"
  "dashboard, words matching nothing|/?q=modle-0999"
  "namespace|/scale-001"
  "model (${BIG_VERSIONS} versions)|/scale-000/big"
  "version|/scale-000/big/versions/$big_mid"
  "compare (3 versions)|/compare?v=scale-000/big:1&v=scale-000/big:$big_mid&v=scale-000/big:latest"
  "requests|/requests"
  "audit|/audit"
)

# p50/p95/max in ms of REQUESTS sequential GETs (after WARMUP), failing on any status but 200.
measure() {
  local path="$1" i status t
  for i in $(seq "$WARMUP"); do curl -s -o /dev/null "${auth[@]}" "$url$path"; done
  for i in $(seq "$REQUESTS"); do
    read -r status t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "${auth[@]}" "$url$path")
    [ "$status" = 200 ] || { echo "error: $path answered $status" >&2; exit 1; }
    echo "$t"
  done | sort -g | awk '{ v[NR] = $1 * 1000 } END { i95 = int(NR * 0.95 + 0.999); printf "%.1f %.1f %.1f\n", v[int((NR + 1) / 2)], v[i95], v[NR] }'
}

rows=""
for entry in "${pages[@]}"; do
  name="${entry%%|*}" path="${entry#*|}"
  [[ -z "${ONLY:-}" || "$name" =~ $ONLY ]] || continue
  log "measuring $name ($path): $WARMUP warm-up, $REQUESTS measured"
  read -r p50 p95 max < <(measure "$path")
  bytes=$(curl -s -o /dev/null -w '%{size_download}' --compressed "${auth[@]}" "$url$path")
  rows+="| $name | \`$path\` | $p50 | $p95 | $max | $bytes |"$'\n'
  echo "$name: p50 $p50 ms, p95 $p95 ms, max $max ms, $bytes bytes" >&2
done

# First load: the dashboard's HTML and every asset it links, compressed (Brotli or gzip, as browsers ask).
html=$(curl -s --compressed -H 'Accept-Encoding: br, gzip' -o /dev/null -w '%{size_download}' "${auth[@]}" "$url/")
assets=$(curl -s "${auth[@]}" "$url/" | grep -o '/static/[^"]*' | sort -u)
first_load=$html
asset_list=""
for a in $assets; do
  n=$(curl -s -H 'Accept-Encoding: br, gzip' -o /dev/null -w '%{size_download}' "$url$a")
  first_load=$((first_load + n)); asset_list+="$a ($n B) "
done

machine="$(nproc) cores ($(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | xargs)), $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo) RAM; $(uname -sr); .NET $(dotnet --version); load average $(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "## Web UI on $label: $MODELS models, scale-000/big with $BIG_VERSIONS versions"
  echo
  echo "Machine: $machine. $seed_note Each page: $WARMUP warm-up requests, then $REQUESTS sequential GETs"
  echo "(curl, 127.0.0.1, administrator token); times to the last byte in ms; bytes: the page's HTML as sent to a browser that"
  echo "accepts Brotli and gzip (the server compresses its static assets, not its pages)."
  echo
  echo "| page | path | p50 | p95 | max | bytes |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  printf '%s' "$rows"
  echo
  echo "First load of the dashboard (HTML + CSS + JS + icon, as sent to a browser that accepts Brotli and gzip): $first_load bytes ($html B HTML; $asset_list)."
} | tee "$report"
