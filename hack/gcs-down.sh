#!/usr/bin/env bash
# Stops the GCS emulator started by hack/gcs-up.sh.
#
#   bash hack/gcs-down.sh            stop fake-gcs-server (by the PID in ${TAI_GCS_DIR:-.tai/gcs}/fake-gcs-server.pid)
#   bash hack/gcs-down.sh --purge    ... and delete that folder (env, log, the filesystem backend's objects)
#
# The cached binary in ${TAI_CACHE:-$HOME/.cache/tai}/fake-gcs-server-<version>/ is kept; delete it to rebuild.
case "${BASH_VERSION:-}" in '') exec bash "$0" "$@" ;; esac # invoked as `sh hack/gcs-down.sh`
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NAME=fake-gcs-server
STATE=${TAI_GCS_DIR:-$ROOT/.tai/gcs}

purge=
for a in "$@"; do
  case "$a" in
    --purge) purge=1 ;;
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gcs-down: unknown argument '$a' (only --purge)" >&2; exit 2 ;;
  esac
done

say() { printf 'gcs-down: %s\n' "$*" >&2; }

# ours PID: PID is alive and its argv[0] is our binary (a zombie, killed but not reaped, has an empty cmdline).
ours() {
  local exe=
  kill -0 "$1" 2>/dev/null || return 1
  read -r -d '' exe 2>/dev/null <"/proc/$1/cmdline" || [ -n "$exe" ] || return 1
  [[ $exe == */$NAME ]]
}

stop() {
  local f=$STATE/$NAME.pid pid i=0
  [ -f "$f" ] || { say "$NAME: not running (no pid file)"; return 0; }
  pid=$(cat "$f" 2>/dev/null || true)
  case "$pid" in '' | *[!0-9]*) rm -f "$f"; say "$NAME: not running"; return 0 ;; esac
  if ! ours "$pid"; then
    rm -f "$f"; say "$NAME: not running (stale pid $pid)"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  while ours "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  if ours "$pid"; then
    say "$NAME: still running after 10s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$f"
  say "$NAME: stopped (pid $pid)"
}

if [ -d "$STATE" ]; then
  stop
else
  say "nothing to stop ($STATE does not exist)"
fi

if [ -n "$purge" ] && [ -d "$STATE" ]; then
  rm -rf "$STATE"
  say "removed $STATE"
fi
