#!/usr/bin/env bash
# radosgw-down.sh — stops the cluster started by radosgw-up.sh (by its recorded PIDs only).
# Usage: radosgw-down.sh [DIR] [--purge]     (env CEPH_DIR; default /tmp/ceph-rgw)
set -uo pipefail
DIR="${CEPH_DIR:-/tmp/ceph-rgw}"; PURGE=0
for a in "$@"; do case "$a" in --purge) PURGE=1 ;; *) DIR="$a" ;; esac; done
log() { echo "[radosgw-down] $*" >&2; }
alive() { local st; st="$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ')"; [[ -n "$st" && "$st" != Z* ]]; }
stop_pidfile() {  # $1 = label, rest = pid files (first existing wins)
  local label="$1" pid="" f; shift
  for f in "$@"; do [[ -s "$f" ]] && { pid="$(cat "$f")"; break; }; done
  [[ -z "$pid" ]] && return 0
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.2; done
    alive "$pid" && { kill -KILL "$pid" 2>/dev/null; log "$label ($pid) SIGKILLed"; } || log "$label ($pid) stopped"
  fi
  rm -f "$@"
}
if [[ -d "$DIR/pids" ]]; then
  stop_pidfile radosgw "$DIR/pids/rgw.pid" "$DIR/pids/client.rgw.a.pid"
  stop_pidfile osd.0   "$DIR/pids/osd.0.fg.pid" "$DIR/pids/osd.0.pid"
  stop_pidfile mon.a   "$DIR/pids/mon.a.fg.pid" "$DIR/pids/mon.a.pid"
  rm -f "$DIR/.ready"
else
  log "no cluster at $DIR"
fi
if [[ $PURGE -eq 1 && -d "$DIR" ]]; then
  if [[ -f "$DIR/ceph.conf" || -z "$(ls -A "$DIR")" ]]; then rm -rf "$DIR"; log "purged $DIR"
  else log "not purging $DIR: no ceph.conf (not made by radosgw-up.sh)"; fi
fi
exit 0
