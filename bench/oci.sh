#!/usr/bin/env bash
# The OCI distribution API against docker-registry (Debian's CNCF Distribution), in one run, both on this machine:
#   1. pushing a new 1 GiB layer (POST, then PUT with the body and ?digest=, curl), alternating, medians;
#   2. skopeo copy of a 1 GiB model out to an OCI layout (docker://… -> oci:DIR), alternating, medians;
#   3. manifest GET by tag, wrk -t2 -c32 -d10s after a warm-up (Berth with a /v2/token bearer token).
# Writes bench/results/oci.md. Berth runs with rate limits off (BERTH_RateLimits__Enabled=false): the default
# transfer bucket (2,000 requests/s per token) would otherwise be what is measured.
#
#   bench/oci.sh            RUNS=5 by default
#   BERTH_BIN=dir bench/oci.sh   use an already built berth
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-5}
GIB=$((1024 * 1024 * 1024))
results="$bench_root/results"
mkdir -p "$results"
report="$results/oci.md"

ensure_packages
command -v skopeo >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq skopeo >/dev/null; }
[ -n "${BERTH_BIN:-}" ] || build_berth
make_file "$data/layer-1g.bin" "$GIB"
file="$data/layer-1g.bin"
new_content() { printf 'run %s %s' "$1" "$(date +%s%N)" | dd of="$file" conv=notrunc status=none; }
digest_of() { echo "sha256:$(openssl dgst -sha256 -r "$1" | cut -d' ' -f1)"; }

# push_blob <base url> <repo> <file> [curl auth args…] -> seconds for the PUT (the upload itself)
push_blob() {
  local url="$1" repo="$2" path="$3"; shift 3
  local digest location s
  digest=$(digest_of "$path")
  location=$(curl -fsS -o /dev/null -w '%header{location}' "$@" -X POST "$url/v2/$repo/blobs/uploads/")
  case "$location" in http*) ;; *) location="$url$location" ;; esac
  case "$location" in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
  s=$(now)
  curl -fsS -o /dev/null "$@" -X PUT -H 'Content-Type: application/octet-stream' -T "$path" "$location"
  elapsed "$s" "$(now)"
}

put_manifest() { # url repo tag manifest-file [auth…]
  local url="$1" repo="$2" tag="$3" manifest="$4"; shift 4
  curl -fsS -o /dev/null "$@" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @"$manifest" "$url/v2/$repo/manifests/$tag"
}

start_registry "$work/registry"
trap 'stop_registry; stop_berth' EXIT
BERTH_RateLimits__Enabled=false BERTH_START_TIMEOUT=${BERTH_START_TIMEOUT:-300} start_berth "$work/berth-oci"
basic=(-u "admin:$BERTH_TOKEN")

# --- 1. pushing a new 1 GiB layer ------------------------------------------------------------------
for warm in 1 2; do
  log "warm-up pushes ($warm/2)"
  new_content "w$warm"; push_blob "$REGISTRY_URL" bench/model "$file" >/dev/null
  new_content "w$warm"; push_blob "$BERTH_URL" bench/model "$file" "${basic[@]}" >/dev/null
done
registry_push=(); berth_push=()
for run in $(seq "$RUNS"); do
  log "push of a new 1 GiB layer: docker-registry, then berth ($run/$RUNS)"
  new_content "r$run"; registry_push+=("$(push_blob "$REGISTRY_URL" bench/model "$file")")
  new_content "b$run"; berth_push+=("$(push_blob "$BERTH_URL" bench/model "$file" "${basic[@]}")")
done
registry_push_s=$(printf '%s\n' "${registry_push[@]}" | median)
berth_push_s=$(printf '%s\n' "${berth_push[@]}" | median)

# --- a 1 GiB model in both: the layer, a config and a ModelPack manifest -----------------------------
new_content "model"
push_blob "$REGISTRY_URL" bench/model "$file" >/dev/null
push_blob "$BERTH_URL" bench/model "$file" "${basic[@]}" >/dev/null
printf '{"descriptor":{"name":"bench"},"config":{},"modelfs":{"type":"layers","diffIds":["%s"]}}' "$(digest_of "$file")" > "$work/config.json"
push_blob "$REGISTRY_URL" bench/model "$work/config.json" >/dev/null
push_blob "$BERTH_URL" bench/model "$work/config.json" "${basic[@]}" >/dev/null
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.model.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.model.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.cncf.model.weight.v1.raw","digest":"%s","size":%s,"annotations":{"org.cncf.model.filepath":"weights.bin"}}]}' \
  "$(digest_of "$work/config.json")" "$(stat -c %s "$work/config.json")" "$(digest_of "$file")" "$GIB" > "$work/manifest.json"
put_manifest "$REGISTRY_URL" bench/model champion "$work/manifest.json"
put_manifest "$BERTH_URL" bench/model champion "$work/manifest.json" "${basic[@]}"

# --- 2. skopeo copy of the 1 GiB model out to an OCI layout ------------------------------------------
copy_out() { # source-ref [skopeo creds…]
  local ref="$1"; shift
  rm -rf "$work/layout"
  local s; s=$(now)
  skopeo copy -q --src-tls-verify=false "$@" "docker://$ref" "oci:$work/layout:champion" >/dev/null
  elapsed "$s" "$(now)"
}
registry_host=${REGISTRY_URL#http://}; berth_host=${BERTH_URL#http://}
copy_out "$registry_host/bench/model:champion" >/dev/null
copy_out "$berth_host/bench/model:champion" --src-creds "admin:$BERTH_TOKEN" >/dev/null
registry_copy=(); berth_copy=()
for run in $(seq "$RUNS"); do
  log "skopeo copy out: docker-registry, then berth ($run/$RUNS)"
  registry_copy+=("$(copy_out "$registry_host/bench/model:champion")")
  berth_copy+=("$(copy_out "$berth_host/bench/model:champion" --src-creds "admin:$BERTH_TOKEN")")
  cmp "$file" "$work/layout/blobs/sha256/$(digest_of "$file" | cut -d: -f2)"
done
rm -rf "$work/layout"
registry_copy_s=$(printf '%s\n' "${registry_copy[@]}" | median)
berth_copy_s=$(printf '%s\n' "${berth_copy[@]}" | median)

# --- 3. manifest GET by tag ------------------------------------------------------------------------
token=$(curl -fsS "${basic[@]}" "$BERTH_URL/v2/token?service=$berth_host&scope=repository:bench/model:pull" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
accept='Accept: application/vnd.oci.image.manifest.v1+json'
rps() { awk '/Requests\/sec/ { print $2 }'; }
p99() { awk '$1 == "99%" { print $2 }'; }
log "wrk: manifest GET by tag (warm-up, then measured), docker-registry and berth"
wrk -t2 -c32 -d5s -H "$accept" "$REGISTRY_URL/v2/bench/model/manifests/champion" >/dev/null
wrk -t2 -c32 -d5s -H "$accept" -H "Authorization: Bearer $token" "$BERTH_URL/v2/bench/model/manifests/champion" >/dev/null
wrk_registry=$(wrk -t2 -c32 -d10s --latency -H "$accept" "$REGISTRY_URL/v2/bench/model/manifests/champion")
wrk_berth=$(wrk -t2 -c32 -d10s --latency -H "$accept" -H "Authorization: Bearer $token" "$BERTH_URL/v2/bench/model/manifests/champion")
wrk_berth_basic=$(wrk -t2 -c32 -d10s --latency -H "$accept" -H "Authorization: Bearer $BERTH_TOKEN" "$BERTH_URL/v2/bench/model/manifests/champion")
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "# OCI distribution: Berth vs docker-registry ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Machine: $(nproc) cores, load average at the end $load (shared: other builds and tests ran at the same time). Medians of $RUNS alternating runs."
  echo
  echo "| measurement | docker-registry | berth | berth / registry |"
  echo "| --- | --- | --- | --- |"
  echo "| push a new 1 GiB layer (POST + PUT, curl) | ${registry_push_s} s ($(mbps "$GIB" "$registry_push_s") MB/s) | ${berth_push_s} s ($(mbps "$GIB" "$berth_push_s") MB/s) | $(ratio "$registry_push_s" "$berth_push_s")x as fast |"
  echo "| skopeo copy of a 1 GiB model out to an OCI layout | ${registry_copy_s} s | ${berth_copy_s} s | $(ratio "$registry_copy_s" "$berth_copy_s")x as fast |"
  echo "| manifest GET by tag, wrk -t2 -c32 (req/s, p99) | $(echo "$wrk_registry" | rps) ($(echo "$wrk_registry" | p99)) | $(echo "$wrk_berth" | rps) ($(echo "$wrk_berth" | p99)) | $(ratio "$(echo "$wrk_berth" | rps)" "$(echo "$wrk_registry" | rps)")x |"
  echo "| the same, berth with an API token as bearer (one token lookup per request) | | $(echo "$wrk_berth_basic" | rps) ($(echo "$wrk_berth_basic" | p99)) | $(ratio "$(echo "$wrk_berth_basic" | rps)" "$(echo "$wrk_registry" | rps)")x |"
} > "$report"
cat "$report"
