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

say() { printf 'gcs-down: %s\n' "$*" >&2; }
die() { printf 'gcs-down: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=hack/lib.sh
. "$ROOT/hack/lib.sh"

down_main gcs-down "$NAME" "$@"
