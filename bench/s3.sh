#!/usr/bin/env bash
# Push and pull of a 1 GiB file through Berth's S3 store with presigned URLs (upload=redirect,
# download=redirect), against the AWS CLI copying the same file to and from the same radosgw, in the
# same run, alternating. Also Berth with uploads and downloads proxied through it, for comparison.
# Writes bench/results/s3.md.
#
#   bench/s3.sh                 RUNS=3 by default; medians are reported, every run is listed
#
# Starts a throwaway single-node Ceph radosgw with scripts/radosgw-up.sh (installs Ceph the first
# time, as root) and installs the AWS CLI (Debian's awscli) if it is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
GIB=$((1024 * 1024 * 1024))
results="$bench_root/results"
mkdir -p "$results"
report="$results/s3.md"

command -v aws >/dev/null || { log "installing awscli"; apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null; }
command -v curl >/dev/null || ensure_packages

# --- radosgw on ports of its own, so that it never meets the test suite's ------------------------
rgw_dir="$work/rgw"
base=$((20000 + (RANDOM % 600) * 64))
log "starting radosgw (scripts/radosgw-up.sh, ports $base-$((base + 60)))"
# 40 GB (a sparse file): deleted objects are reclaimed by radosgw's own GC hours later, and a full OSD blocks writes.
OSD_SIZE_GB=40 MON_PORT=$((base + 1)) OSD_PORTS="$((base + 10))-$((base + 60))" "$repo_root/scripts/radosgw-up.sh" "$rgw_dir" "$base" >/dev/null 2>"$work/rgw.log"
trap '"$repo_root/scripts/radosgw-down.sh" "$rgw_dir" --purge >/dev/null 2>&1 || true' EXIT
set -a; source "$rgw_dir/s3.env"; set +a
export AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" AWS_DEFAULT_REGION="$S3_REGION"
awss3() { aws --endpoint-url "$S3_ENDPOINT" s3 "$@"; }
bucket="bench-$(date +%s)"
awss3 mb "s3://$bucket" >/dev/null

build_berth
mkdir -p "$data/model-1g"
make_file "$data/model-1g/weights.bin" "$GIB"
file="$data/model-1g/weights.bin"
export BERTH_CONFIG="$work/cli/config.json" BERTH_CACHE_DIR="$work/cli/cache"
new_content() { printf 'run %s %s' "$1" "$(date +%s%N)" | dd of="$file" conv=notrunc status=none; }
timed() { local s; s=$(now); "$@" >/dev/null; elapsed "$s" "$(now)"; }

setting() { # prefix, modes
  echo "s3://$bucket/$1?endpoint=$S3_ENDPOINT&region=$S3_REGION&path-style=true&checksums=when-required&access-key=$S3_ACCESS_KEY&secret-key=$S3_SECRET_KEY$2"
}

berth_push() { rm -rf "$BERTH_CACHE_DIR"; timed "$bin/berth" push "$data/model-1g" "acme/$1" --json; }
berth_pull() { rm -rf "$work/pulled"; timed "$bin/berth" pull "acme/$1:latest" -o "$work/pulled" --json; }
aws_up() { timed awss3 cp "$file" "s3://$bucket/aws/weights-$1.bin" --only-show-errors; }
aws_down() { rm -f "$work/aws-down.bin"; timed awss3 cp "s3://$bucket/aws/weights-$1.bin" "$work/aws-down.bin" --only-show-errors; }

declare -A runs
record() { runs[$1]="${runs[$1]:-} $2"; }

for mode in redirect proxy; do
  start_berth "$work/berth-s3-$mode" --blobs "$(setting "$mode" "&upload=$mode&download=$mode")"
  log "warm-up ($mode)"
  new_content "warm-$mode"; berth_push "$mode" >/dev/null
  for run in $(seq "$RUNS"); do
    log "1 GiB push and pull: aws s3 cp, then berth ($mode, $run/$RUNS)"
    new_content "aws-$mode-$run"; record "aws-up-$mode" "$(aws_up "$mode-$run")"
    new_content "berth-$mode-$run"; record "berth-push-$mode" "$(berth_push "$mode")"
    record "aws-down-$mode" "$(aws_down "$mode-$run")"
    record "berth-pull-$mode" "$(berth_pull "$mode")"
    cmp -s "$work/pulled/weights.bin" "$file" || { echo "error: the pulled file differs from the pushed one" >&2; exit 1; }
  done
  stop_berth
done

med() { tr ' ' '\n' <<<"${runs[$1]}" | grep . | median; }
list() { tr ' ' '\n' <<<"${runs[$1]}" | grep . | paste -sd' '; }
pct() { awk -v peer="$1" -v berth="$2" 'BEGIN { printf "%.0f%%", 100 * peer / berth }'; }

{
  echo "# S3 store: 1 GiB push and pull ($(date -u +%Y-%m-%d), RUNS=$RUNS, medians in seconds)"
  echo
  echo "radosgw $(radosgw --version 2>/dev/null | awk '{print $3}') (single node, bluestore on a file), $(aws --version 2>&1 | cut -d' ' -f1), $(nproc) cores."
  echo "Percent = AWS CLI time / Berth time (100% = as fast as the AWS CLI; the target is at least 80%)."
  echo
  echo "| transfer | AWS CLI | Berth | Berth vs AWS CLI | every run (AWS CLI / Berth) |"
  echo "| --- | ---: | ---: | ---: | --- |"
  for mode in redirect proxy; do
    up=$(med "aws-up-$mode"); push=$(med "berth-push-$mode"); down=$(med "aws-down-$mode"); pull=$(med "berth-pull-$mode")
    echo "| push, $mode | $up | $push | $(pct "$up" "$push") | $(list "aws-up-$mode") / $(list "berth-push-$mode") |"
    echo "| pull, $mode | $down | $pull | $(pct "$down" "$pull") | $(list "aws-down-$mode") / $(list "berth-pull-$mode") |"
  done
} > "$report"
cat "$report"
