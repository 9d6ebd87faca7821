#!/usr/bin/env bash
# radosgw-up.sh — a single-node, throwaway Ceph cluster (1 mon, 1 OSD, 1 radosgw) exposing a real
# S3 API (Ceph RGW) on 127.0.0.1, for Berth's S3 blob-store tests (scripts/test.sh starts it).
#
# Usage (as root, Debian 12):   radosgw-up.sh [DIR] [RGW_PORT]
# Env:
#   CEPH_DIR        cluster dir (default /tmp/ceph-rgw)       — all state, logs, pids
#   RGW_PORT        S3 port (default 47480)                    — bound to 127.0.0.1
#   MON_PORT        mon msgr2 port (default 47300; v1 = +1)    — bound to 127.0.0.1
#   OSD_PORTS       "min-max" port range for the OSD (default 47310-47340)
#   OBJECTSTORE     bluestore (default; sparse file DIR/osd.0.block) | memstore (RAM)
#   OSD_SIZE_GB     bluestore file / memstore size (default 20 / 4)
#   S3_ACCESS_KEY / S3_SECRET_KEY  (default registry-access / registry-secret)
#   CEPH_INSTALL=0  skip the apt-get step
# Prints S3_ENDPOINT / S3_ACCESS_KEY / S3_SECRET_KEY (and writes DIR/s3.env).
# Idempotent: if radosgw already answers on RGW_PORT for this DIR it just prints
# the credentials; a DIR left by a stopped cluster is wiped and rebuilt
# (a rebuild is ~as fast as a restart).
set -euo pipefail

DIR="${1:-${CEPH_DIR:-/tmp/ceph-rgw}}"
RGW_PORT="${2:-${RGW_PORT:-47480}}"
MON_PORT="${MON_PORT:-47300}"
OSD_PORTS="${OSD_PORTS:-47310-47340}"
OBJECTSTORE="${OBJECTSTORE:-bluestore}"
ACCESS="${S3_ACCESS_KEY:-registry-access}"
SECRET="${S3_SECRET_KEY:-registry-secret}"
T0=$(date +%s%N)
log() { echo "[radosgw-up +$(( ($(date +%s%N)-T0)/1000000 ))ms] $*" >&2; }
shq() { local q="'"; printf "'%s'" "${1//$q/$q\\$q$q}"; }  # shell single-quoting for the env file
HERE="$(dirname "$(readlink -f "$0")")"
die() {
  log "ERROR: $*"
  [[ -n "${STARTED:-}" ]] && "$HERE/radosgw-down.sh" "$DIR" >/dev/null 2>&1   # stop what we started, keep logs
  exit 1
}
[[ $(id -u) -eq 0 ]] || die "run as root"

# ---- 1. packages (Debian 12 ships Ceph 16.2 "Pacific") ------------------------
if [[ "${CEPH_INSTALL:-1}" != 0 ]] && { ! command -v radosgw || ! command -v ceph-osd || ! command -v ceph-mon || ! command -v uuidgen; } >/dev/null 2>&1; then
  log "apt-get install ceph-mon ceph-osd radosgw (no mgr needed)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq -o DPkg::Lock::Timeout=600 || true
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
      ceph-mon ceph-osd radosgw uuid-runtime curl >/dev/null || die "apt-get install failed"
fi

CONF="$DIR/ceph.conf"
export CEPH_CONF="$CONF"
CEPH=(ceph -c "$CONF" --connect-timeout 20)

rgw_up() { curl -s -o /dev/null -m 2 "http://127.0.0.1:$RGW_PORT/"; }
print_creds() {
  cat >"$DIR/s3.env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_ACCESS_KEY=$(shq "$ACCESS")
S3_SECRET_KEY=$(shq "$SECRET")
S3_REGION=us-east-1
S3_FORCE_PATH_STYLE=true
# Ceph 16 RGW rejects the aws-chunked + trailing-checksum uploads that current AWS SDKs
# send by default (verified with AWSSDK.S3 4.1.0: 400 XAmzContentSHA256Mismatch);
# these two standard SDK variables switch that off.
AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED
AWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED
CEPH_CONF=$CONF
EOF
  cat "$DIR/s3.env"
}

# ---- idempotency ---------------------------------------------------------------
if [[ -f "$DIR/.ready" ]] && rgw_up && [[ -f "$DIR/pids/rgw.pid" ]] && kill -0 "$(cat "$DIR/pids/rgw.pid")" 2>/dev/null; then
  log "already running"; print_creds; exit 0
fi
if [[ -d "$DIR" && -n "$(ls -A "$DIR")" && ! -f "$DIR/ceph.conf" ]]; then
  die "$DIR exists, is not empty and was not made by this script; refusing to wipe it"
fi
if [[ -d "$DIR" ]]; then
  log "stale $DIR: stopping leftovers and rebuilding"
  "$HERE/radosgw-down.sh" "$DIR" --purge >/dev/null 2>&1 || true
  rm -rf "$DIR"
fi
rgw_up && die "something else already answers on 127.0.0.1:$RGW_PORT"

mkdir -p "$DIR"/{mon.a,osd.0,rgw.a,log,run,pids,keyring,crash}
STARTED=1
FSID="$(uuidgen)"
OSD_MIN="${OSD_PORTS%-*}"; OSD_MAX="${OSD_PORTS#*-}"
if [[ "$OBJECTSTORE" == memstore ]]; then
  SIZE_GB="${OSD_SIZE_GB:-4}"
  STORE_CONF="osd objectstore = memstore
memstore device bytes = $((SIZE_GB*1024*1024*1024))"
else
  SIZE_GB="${OSD_SIZE_GB:-20}"
  STORE_CONF="osd objectstore = bluestore
bluestore block path = $DIR/osd.0.block
bluestore block create = true
bluestore block size = $((SIZE_GB*1024*1024*1024))
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mount = false
bluestore fsck on mkfs = false
bluestore cache autotune = true
bdev enable discard = false"
fi

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$((MON_PORT+1))]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind ipv6 = false
ms bind port min = $OSD_MIN
ms bind port max = $OSD_MAX
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $DIR/keyring/\$name.keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file = $DIR/pids/\$name.pid
log to stderr = false
err to stderr = false
log to syslog = false
crash dir = $DIR/crash
client mount timeout = 30
rados osd op timeout = 60
# single node: one replica, no redundancy warnings, small PG counts
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
auth allow insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false

[mon]
mon data = $DIR/\$name
# single mon: commit map changes immediately instead of batching for 1 s
# (cuts cluster bring-up from ~17 s to a few seconds)
paxos propose interval = 0.01
paxos min wait = 0.001
mon cluster log file = $DIR/log/cluster.log

[osd]
osd data = $DIR/\$name
$STORE_CONF
osd memory target = 1073741824
osd crush update on start = true
osd max object name len = 460
osd max object namespace len = 64
osd op num shards = 2
osd op num threads per shard = 2
osd scrub begin hour = 0
osd scrub end hour = 0
osd scrub auto repair = false
osd heartbeat grace = 60

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $DIR/rgw.a
rgw thread pool size = 64
rgw dns name = localhost
rgw enable usage log = false
rgw gc obj min wait = 60
rgw lc debug interval = 10
rgw crypt require ssl = false
EOF

# ---- 2. keys + monitor ---------------------------------------------------------
K="$DIR/keyring"
ceph-authtool --create-keyring "$K/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$K/client.admin.keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
ceph-authtool "$K/mon.a.keyring" --import-keyring "$K/client.admin.keyring" >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$((MON_PORT+1))]" \
  "$DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$K/mon.a.keyring" 2>>"$DIR/log/mkfs.log"
ceph-mon -c "$CONF" -i a -f >>"$DIR/log/mon.a.stdout" 2>&1 &
echo $! >"$DIR/pids/mon.a.fg.pid"
log "mon started (pid $(cat "$DIR/pids/mon.a.fg.pid"))"
for _ in $(seq 1 100); do "${CEPH[@]}" mon stat >/dev/null 2>&1 && break; sleep 0.2; done
"${CEPH[@]}" mon stat >/dev/null || die "mon did not come up; see $DIR/log/mon.a.log"
log "mon up"

# ---- 3. OSD --------------------------------------------------------------------
OSD_UUID="$(uuidgen)"
ceph-authtool --create-keyring "$K/osd.0.keyring" --gen-key -n osd.0 >/dev/null
OSD_SECRET="$(ceph-authtool -p -n osd.0 "$K/osd.0.keyring")"
echo "{\"cephx_secret\": \"$OSD_SECRET\"}" >"$DIR/osd.0/new.json"
OSD_ID="$("${CEPH[@]}" osd new "$OSD_UUID" -i "$DIR/osd.0/new.json")"
[[ "$OSD_ID" == 0 ]] || die "unexpected osd id '$OSD_ID'"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/mkfs.log" 2>&1 \
  || die "ceph-osd --mkfs failed; see $DIR/log/mkfs.log $DIR/log/osd.0.log"
log "osd.0 mkfs done ($OBJECTSTORE)"
ceph-osd -c "$CONF" -i 0 -f >>"$DIR/log/osd.0.stdout" 2>&1 &
echo $! >"$DIR/pids/osd.0.fg.pid"
for _ in $(seq 1 150); do
  [[ "$("${CEPH[@]}" osd stat -f json 2>/dev/null | python3 -c 'import json,sys;print(json.load(sys.stdin).get("num_up_osds",0))' 2>/dev/null)" == 1 ]] && break
  sleep 0.2
done
[[ "$("${CEPH[@]}" osd stat -f json | python3 -c 'import json,sys;print(json.load(sys.stdin).get("num_up_osds",0))')" == 1 ]] \
  || die "osd.0 not up; see $DIR/log/osd.0.log"
log "osd.0 up (pid $(cat "$DIR/pids/osd.0.fg.pid"))"

# ---- 4. radosgw ----------------------------------------------------------------
"${CEPH[@]}" auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' >"$K/client.rgw.a.keyring"
radosgw -c "$CONF" -n client.rgw.a -f >>"$DIR/log/rgw.a.stdout" 2>&1 &
echo $! >"$DIR/pids/rgw.pid"
for _ in $(seq 1 300); do rgw_up && break; kill -0 "$(cat "$DIR/pids/rgw.pid")" 2>/dev/null || break; sleep 0.2; done
rgw_up || die "radosgw not answering on 127.0.0.1:$RGW_PORT; see $DIR/log/client.rgw.a.log"
log "radosgw up on 127.0.0.1:$RGW_PORT (pid $(cat "$DIR/pids/rgw.pid"))"

# ---- 5. S3 user ----------------------------------------------------------------
radosgw-admin -c "$CONF" user create --uid=registry --display-name="registry test user" \
  --access-key="$ACCESS" --secret-key="$SECRET" >"$DIR/user.json" 2>>"$DIR/log/radosgw-admin.log" \
  || die "radosgw-admin user create failed"
touch "$DIR/.ready"
log "ready"
print_creds
