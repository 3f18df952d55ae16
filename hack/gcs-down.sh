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
die() { printf 'gcs-down: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=hack/lib.sh
. "$ROOT/hack/lib.sh"

if [ -d "$STATE" ]; then
  stop_process "$NAME"
else
  say "nothing to stop ($STATE does not exist)"
fi

if [ -n "$purge" ] && [ -d "$STATE" ]; then
  rm -rf "$STATE"
  say "removed $STATE"
fi
