#!/usr/bin/env bash
# Measures Berth against its peers on this machine, all in one run, and writes a Markdown report to
# bench/results/latest.md (copy the numbers into docs/benchmarks.md with their analysis).
#
#   bench/run.sh              everything (about ten minutes)
#   RUNS=5 bench/run.sh       more repetitions (medians are reported)
#   SKIP_4G=1 bench/run.sh    skip the 4 GiB memory measurements
#
# Peers and limits: docker-registry (CNCF Distribution) for pushes and manifest lookups, nginx
# serving a static file for pulls, openssl for hashing. Needs root for apt-get the first time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-5}
GIB=$((1024 * 1024 * 1024))
results="$bench_root/results"
mkdir -p "$results"
report="$results/latest.md"

ensure_packages
build_berth
mkdir -p "$data/model-1g"
make_file "$data/model-1g/weights.bin" "$GIB"
file="$data/model-1g/weights.bin"
export BERTH_CONFIG="$work/cli/config.json" BERTH_CACHE_DIR="$work/cli/cache"

# --- openssl: the hashing limit -------------------------------------------------------------
log "openssl dgst -sha256 (x$RUNS)"
openssl_s=$(for _ in $(seq "$RUNS"); do s=$(now); openssl dgst -sha256 "$file" >/dev/null; elapsed "$s" "$(now)"; echo; done | median)

# --- pushes of a new 1 GiB file: docker-registry (curl, monolithic) and berth (CLI) ------------
# Both servers run for the whole measurement, as they would in production, and take two untimed
# warm-up pushes first (the .NET server compiles its hot paths to optimized code while it runs).
# Timed runs alternate between the two, so that drift on this shared machine affects both alike, and
# every run pushes bytes never seen before (the first bytes of the file change).
new_content() { printf 'run %s %s' "$1" "$(date +%s%N)" | dd of="$file" conv=notrunc status=none; }

registry_push() {
  local digest location
  digest="sha256:$(openssl dgst -sha256 -r "$file" | cut -d' ' -f1)"
  location=$(curl -fsS -o /dev/null -w '%header{location}' -X POST "$REGISTRY_URL/v2/bench/model/blobs/uploads/")
  case "$location" in http*) ;; *) location="$REGISTRY_URL$location" ;; esac
  local s; s=$(now)
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$file" "$location&digest=$digest"
  elapsed "$s" "$(now)"
}

berth_push() {
  rm -rf "$BERTH_CACHE_DIR"
  local s; s=$(now)
  "$bin/berth" push "$data/model-1g" acme/bench --json >/dev/null
  elapsed "$s" "$(now)"
}

start_registry "$work/registry"
start_berth "$work/berth-push"
for warm in 1 2; do
  log "warm-up pushes ($warm/2)"
  new_content "warm$warm"; registry_push >/dev/null
  new_content "warm$warm"; berth_push >/dev/null
done

registry_runs=()
berth_runs=()
for run in $(seq "$RUNS"); do
  log "push of a new 1 GiB file: docker-registry, then berth ($run/$RUNS)"
  new_content "r$run"; registry_runs+=("$(registry_push)")
  new_content "b$run"; berth_runs+=("$(berth_push)")
done
stop_registry
registry_push_s=$(printf '%s\n' "${registry_runs[@]}" | median)
berth_push_s=$(printf '%s\n' "${berth_runs[@]}" | median)

log "berth re-push of the unchanged file (x$RUNS)"
rm -rf "$BERTH_CACHE_DIR"
"$bin/berth" push "$data/model-1g" acme/bench --json >/dev/null
sleep 2.1   # the digest cache trusts an entry only when the file is older than its recording by 2 s
"$bin/berth" push "$data/model-1g" acme/bench --json >/dev/null
repush_warm_s=$(for _ in $(seq "$RUNS"); do s=$(now); "$bin/berth" push "$data/model-1g" acme/bench --json >/dev/null; elapsed "$s" "$(now)"; echo; done | median)
repush_cold_s=$(for _ in $(seq "$RUNS"); do rm -rf "$BERTH_CACHE_DIR"; s=$(now); "$bin/berth" push "$data/model-1g" acme/bench --json >/dev/null; elapsed "$s" "$(now)"; echo; done | median)

# --- pulls of that 1 GiB file: curl from nginx (sendfile) vs berth pull, alternating -----------
# nginx serves the very file Berth stored (its blob), so both read the same bytes from the same disk
# and page cache.
hex=$(openssl dgst -sha256 -r "$file" | cut -d' ' -f1)
start_nginx "$work/berth-push/store/blobs/sha256/${hex:0:2}" "$work/nginx"
wait_http "$NGINX_URL/$hex" 10
curl_runs=()
pull_runs=()
for run in $(seq "$RUNS"); do
  log "curl from nginx, berth pull ($run/$RUNS)"
  rm -f "$work/curl.out"
  s=$(now); curl -fsS -o "$work/curl.out" "$NGINX_URL/$hex"; curl_runs+=("$(elapsed "$s" "$(now)")")
  rm -f "$work/curl.out"
  rm -rf "$work/pull"
  s=$(now); "$bin/berth" pull acme/bench:latest -o "$work/pull" --json >/dev/null; pull_runs+=("$(elapsed "$s" "$(now)")")
  cmp "$file" "$work/pull/weights.bin"
  rm -rf "$work/pull"
done
stop_nginx
curl_s=$(printf '%s\n' "${curl_runs[@]}" | median)
berth_pull_s=$(printf '%s\n' "${pull_runs[@]}" | median)

# --- lookups: manifest by tag vs alias resolution, wrk at 32 connections --------------------------
log "wrk: berth alias resolution"
"$bin/berth" alias set acme/bench:latest champion >/dev/null
wrk -t2 -c32 -d10s -H "Authorization: Bearer $BERTH_TOKEN" "$BERTH_URL/api/v1/models/acme/bench/versions/champion/manifest" >/dev/null
wrk_berth=$(wrk -t2 -c32 -d10s --latency -H "Authorization: Bearer $BERTH_TOKEN" "$BERTH_URL/api/v1/models/acme/bench/versions/champion/manifest")
wrk_berth_version=$(wrk -t2 -c32 -d10s --latency -H "Authorization: Bearer $BERTH_TOKEN" "$BERTH_URL/api/v1/models/acme/bench/versions/champion")
stop_berth

log "wrk: docker-registry manifest by tag"
start_registry "$work/registry"
config='{}'
config_digest="sha256:$(printf '%s' "$config" | sha256sum | cut -d' ' -f1)"
location=$(curl -fsS -o /dev/null -w '%header{location}' -X POST "$REGISTRY_URL/v2/bench/model/blobs/uploads/")
case "$location" in http*) ;; *) location="$REGISTRY_URL$location" ;; esac
printf '%s' "$config" | curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary @- "$location&digest=$config_digest"
manifest=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[]}' "$config_digest")
printf '%s' "$manifest" | curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @- "$REGISTRY_URL/v2/bench/model/manifests/champion"
wrk -t2 -c32 -d10s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/bench/model/manifests/champion" >/dev/null
wrk_registry=$(wrk -t2 -c32 -d10s --latency -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/bench/model/manifests/champion")
stop_registry

# --- cold start to ready on an empty data folder -------------------------------------------------
log "cold start (x5)"
cold_s=$(for _ in 1 2 3 4 5; do
  rm -rf "$work/cold"; port=$(free_port)
  s=$(now)
  "$bin/berth" serve --data "$work/cold" --urls "http://127.0.0.1:$port" > "$work/cold.log" 2>&1 &
  pid=$!
  wait_http "http://127.0.0.1:$port/readyz" 30
  elapsed "$s" "$(now)"; echo
  kill "$pid"; wait "$pid" 2>/dev/null || true
done | median)

# --- peak memory while pushing and pulling 4 GiB ---------------------------------------------------
if [ "${SKIP_4G:-0}" != 1 ]; then
  log "peak memory, 4 GiB push and pull"
  mkdir -p "$data/model-4g"
  make_file "$data/model-4g/weights.bin" $((4 * GIB))
  start_berth "$work/berth-4g"
  rm -rf "$BERTH_CACHE_DIR"
  cli_push_kb=$( { /usr/bin/time -f '%M' "$bin/berth" push "$data/model-4g" acme/big --json >/dev/null; } 2>&1 | tail -1)
  rm -rf "$work/pull4"
  cli_pull_kb=$( { /usr/bin/time -f '%M' "$bin/berth" pull acme/big -o "$work/pull4" --json >/dev/null; } 2>&1 | tail -1)
  server_kb=$(peak_rss_kb "$BERTH_PID")
  cmp "$data/model-4g/weights.bin" "$work/pull4/weights.bin"
  rm -rf "$work/pull4"
  stop_berth
fi

# --- report --------------------------------------------------------------------------------------
field() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
rps() { echo "$1" | awk '/Requests\/sec/ { print $2 }'; }
p99() { echo "$1" | awk '$1 == "99%" { print $2 }'; }
p50() { echo "$1" | awk '$1 == "50%" { print $2 }'; }

{
  echo "# Benchmark run $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores ($(awk -F: '/model name/ { print $2; exit }' /proc/cpuinfo | xargs)), $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo) RAM; $(uname -sr); .NET $(dotnet --version); medians of $RUNS runs."
  echo
  echo "| measurement | time | throughput |"
  echo "| --- | --- | --- |"
  echo "| openssl dgst -sha256, 1 GiB | ${openssl_s} s | $(mbps "$GIB" "$openssl_s") MB/s |"
  echo "| docker-registry monolithic push (curl), 1 GiB | ${registry_push_s} s | $(mbps "$GIB" "$registry_push_s") MB/s |"
  echo "| berth push (CLI, new file, hashing included), 1 GiB | ${berth_push_s} s | $(mbps "$GIB" "$berth_push_s") MB/s |"
  echo "| (all runs: registry ${registry_runs[*]}; berth ${berth_runs[*]}) | | |"
  echo "| berth re-push unchanged, digest cache warm | ${repush_warm_s} s | |"
  echo "| berth re-push unchanged, digest cache empty | ${repush_cold_s} s | |"
  echo "| curl to a file from nginx (sendfile) serving Berth's blob file, 1 GiB | ${curl_s} s | $(mbps "$GIB" "$curl_s") MB/s |"
  echo "| berth pull (CLI, verified), 1 GiB | ${berth_pull_s} s | $(mbps "$GIB" "$berth_pull_s") MB/s |"
  echo "| (all runs: curl ${curl_runs[*]}; berth ${pull_runs[*]}) | | |"
  echo "| cold start to ready, empty data folder | ${cold_s} s | |"
  echo
  echo "Ratios: push vs docker-registry $(ratio "$registry_push_s" "$berth_push_s")x (target >= 2);" \
       "push vs openssl $(ratio "$openssl_s" "$berth_push_s") (target >= 0.5);" \
       "pull vs nginx+curl $(ratio "$curl_s" "$berth_pull_s") (target >= 0.8)."
  echo
  echo "| lookup (wrk, 2 threads, 32 connections, 10 s) | requests/s | p50 | p99 |"
  echo "| --- | --- | --- | --- |"
  echo "| docker-registry GET manifest by tag | $(rps "$wrk_registry") | $(p50 "$wrk_registry") | $(p99 "$wrk_registry") |"
  echo "| berth GET acme/bench:champion manifest | $(rps "$wrk_berth") | $(p50 "$wrk_berth") | $(p99 "$wrk_berth") |"
  echo "| berth GET acme/bench:champion version (full JSON) | $(rps "$wrk_berth_version") | $(p50 "$wrk_berth_version") | $(p99 "$wrk_berth_version") |"
  echo
  echo "Alias resolution vs docker-registry: $(ratio "$(rps "$wrk_berth")" "$(rps "$wrk_registry")")x (target >= 3, p99 < 20 ms)."
  if [ "${SKIP_4G:-0}" != 1 ]; then
    echo
    echo "Peak memory, 4 GiB file: server $((server_kb / 1024)) MiB (target < 200), CLI push $((cli_push_kb / 1024)) MiB, CLI pull $((cli_pull_kb / 1024)) MiB (target < 150)."
  fi
} | tee "$report"
