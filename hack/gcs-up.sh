#!/usr/bin/env bash
# A local Google Cloud Storage emulator for tests and developers: fake-gcs-server on 127.0.0.1, plain HTTP.
#
#   bash hack/gcs-up.sh                start (or report that it is already up)
#   bash hack/gcs-up.sh --build-only   only build (or find) the cached binary and print its path; the test
#                                      command runs this first, so no test waits for the build
#   bash hack/gcs-down.sh              stop; --purge also deletes the state folder
#
# fake-gcs-server is built from the Go module proxy (go install github.com/fsouza/fake-gcs-server@VERSION),
# once per machine, and cached under ${TAI_CACHE:-$HOME/.cache/tai}/fake-gcs-server-<version>/.
#
# State lives in ${TAI_GCS_DIR:-.tai/gcs}/ (git-ignored): env (TAI_GCS_URL, TAI_GCS_PORT, ...; shell syntax, one
# KEY=VALUE a line), fake-gcs-server.pid, fake-gcs-server.log, and data/ for the filesystem backend.
# TAI_GCS_BACKEND=memory (the default) keeps objects in the process, so they are gone when it stops;
# TAI_GCS_BACKEND=filesystem keeps them in data/, so they survive a kill and a restart. Unset, a restart reuses
# the backend saved in env.
# If the process is gone (say a test killed it), rerunning this starts it again on the same port, so clients
# that were pointed at it keep working.
#
# Clients: @google-cloud/storage with { apiEndpoint: TAI_GCS_URL, projectId: 'test' } and no credentials
# (a custom apiEndpoint sends no Authorization header unless useAuthWithCustomEndpoint is true).
#
# stdout: the emulator's URL, alone, once it answers (--build-only: the binary's path); progress goes to stderr.
case "${BASH_VERSION:-}" in '') exec bash "$0" "$@" ;; esac # invoked as `sh hack/gcs-up.sh`
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=v1.55.1
MODULE=github.com/fsouza/fake-gcs-server
NAME=fake-gcs-server
# TAI_GCS_DIR gives a test its own emulator (tests that stop it mid-run use one).
STATE=${TAI_GCS_DIR:-$ROOT/.tai/gcs}
CACHE_ROOT=${TAI_CACHE:-$HOME/.cache/tai}
BIN=$CACHE_ROOT/$NAME-$VERSION

say() { printf 'gcs-up: %s\n' "$*" >&2; }
die() { printf 'gcs-up: error: %s\n' "$*" >&2; exit 1; }

build_only=
for a in "$@"; do
  case "$a" in
    --build-only) build_only=1 ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$a' (only --build-only)" ;;
  esac
done

# ---------------------------------------------------------------------------------------------- binary
build() {
  local go out start gopid n last=0
  go=$(command -v go 2>/dev/null || true)
  if [ -z "$go" ] && [ -x /usr/local/go/bin/go ]; then go=/usr/local/go/bin/go; fi # the official tarball's place
  [ -n "$go" ] || die "'go' is not on PATH. It is needed once per machine to build $NAME $VERSION from the Go module proxy
  (go install $MODULE@$VERSION; https://go.dev/dl/). After that the binary is reused from $BIN/."
  say "building $NAME $VERSION from the Go module proxy (first run only) into $BIN/"
  say "  with $("$go" version | cut -d' ' -f3-); about 1.5 minutes on 2 cores, log in $BIN/build.log"
  out=$(mktemp -d "$BIN/.build.XXXXXX")
  start=$(date +%s)
  # 8>&- 9>&-: the build must not hold the locks (or the caller's pipes) if this script is killed.
  GOBIN=$out CGO_ENABLED=0 GOFLAGS="-trimpath ${GOFLAGS:-}" \
    "$go" install -v "$MODULE@$VERSION" </dev/null >"$BIN/build.log" 2>&1 8>&- 9>&- &
  gopid=$!
  trap 'kill "$gopid" 2>/dev/null; rm -rf "$out"' INT TERM
  while kill -0 "$gopid" 2>/dev/null; do
    sleep 1
    [ $(($(date +%s) - start)) -ge "$((last + 15))" ] || continue
    last=$(($(date +%s) - start))
    kill -0 "$gopid" 2>/dev/null || break
    n=$(grep -c '^[a-zA-Z]' "$BIN/build.log" 2>/dev/null || true)
    say "  ... $(($(date +%s) - start))s: $n modules downloaded or packages compiled, now $(tail -n1 "$BIN/build.log" 2>/dev/null | cut -c1-80)"
  done
  if ! wait "$gopid"; then
    rm -rf "$out"
    tail -n 30 "$BIN/build.log" >&2
    die "go install $MODULE@$VERSION failed (full log: $BIN/build.log)"
  fi
  trap - INT TERM
  mv -f "$out/$NAME" "$BIN/$NAME"
  rm -rf "$out"
  say "built in $(($(date +%s) - start))s: $(du -h "$BIN/$NAME" | cut -f1) in $BIN/"
}

ensure_binary() {
  [ ! -x "$BIN/$NAME" ] || { say "using cached $NAME $VERSION from $BIN/"; return 0; }
  mkdir -p "$BIN"
  # One build per machine even when several state folders (parallel test files) start at once.
  if command -v flock >/dev/null 2>&1; then exec 8>"$BIN/.lock"; flock 8; fi
  [ -x "$BIN/$NAME" ] || build
  exec 8>&-
}

if [ -n "$build_only" ]; then
  ensure_binary
  echo "$BIN/$NAME"
  exit 0
fi

# One gcs-up at a time per state folder (parallel test workers may all ask for the emulator).
mkdir -p "$STATE"
if command -v flock >/dev/null 2>&1; then exec 9>"$STATE/.lock"; flock 9; fi
command -v curl >/dev/null 2>&1 || die "'curl' is not on PATH (needed to check that the emulator answers)"

# ------------------------------------------------------------------------------------------- processes
# is_ours, pid_of, port_busy, pick_port
# shellcheck source=hack/lib.sh
. "$ROOT/hack/lib.sh"

answers() { # answers PORT: the emulator on PORT lists buckets
  curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$1/storage/v1/b" 2>/dev/null
}

saved() { # saved KEY: KEY's value in the env file of an earlier run, else nothing
  local v=
  if [ -f "$STATE/env" ]; then v=$(sed -n "s/^$1=//p" "$STATE/env"); fi
  echo "${v%%$'\n'*}"
}
PORT=$(saved TAI_GCS_PORT)
SAVED_BACKEND=$(saved TAI_GCS_BACKEND)
BACKEND=${TAI_GCS_BACKEND:-${SAVED_BACKEND:-memory}}
case "$BACKEND" in memory | filesystem) ;; *) die "TAI_GCS_BACKEND must be 'memory' or 'filesystem', not '$BACKEND'" ;; esac
DATA=$STATE/data
pid=$(pid_of "$NAME")

# ----------------------------------------------------------------------------------- already up? (idempotent)
if [ -n "$pid" ] && [ -n "$PORT" ] && answers "$PORT"; then
  if [ "$BACKEND" != "${SAVED_BACKEND:-memory}" ]; then
    die "already up (pid $pid) with the ${SAVED_BACKEND:-memory} backend, not $BACKEND: stop it first (bash hack/gcs-down.sh)"
  fi
  say "already up: $NAME $VERSION (pid $pid, $BACKEND backend) on http://127.0.0.1:$PORT"
  echo "http://127.0.0.1:$PORT"
  exit 0
fi
if [ -n "$pid" ]; then
  say "$NAME (pid $pid) is running but does not answer on port ${PORT:-?}: restarting it"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do is_ours "$pid" "$NAME" || break; sleep 0.2; done
  if is_ours "$pid" "$NAME"; then kill -9 "$pid" 2>/dev/null || true; sleep 0.2; fi
fi

ensure_binary

# ----------------------------------------------------------------------------------------------- port
if [ -z "$PORT" ]; then
  PORT=$(pick_port)
elif port_busy "$PORT"; then
  old=$PORT
  PORT=$(pick_port)
  say "warning: the saved port $old is taken by another process; moving to $PORT (clients pointed at $old must be told)"
fi
URL=http://127.0.0.1:$PORT
DATA_DIR=
if [ "$BACKEND" = filesystem ]; then DATA_DIR=$DATA; fi

cat >"$STATE/env" <<EOF
TAI_GCS_VERSION=$VERSION
TAI_GCS_PORT=$PORT
TAI_GCS_URL=$URL
TAI_GCS_BACKEND=$BACKEND
TAI_GCS_DATA=$DATA_DIR
TAI_GCS_BIN=$BIN/$NAME
EOF

# ---------------------------------------------------------------------------------------------- start
args=(-scheme http -host 127.0.0.1 -port "$PORT" -external-url "$URL" -backend "$BACKEND")
where="$BACKEND backend"
if [ -n "$DATA_DIR" ]; then
  mkdir -p "$DATA_DIR"
  args+=(-filesystem-root "$DATA_DIR")
  where="$where, data in $DATA_DIR"
fi
# TAI_GCS_FLAGS: extra flags, word-split (e.g. "-log-level debug").
# shellcheck disable=SC2206
args+=(${TAI_GCS_FLAGS:-})
say "starting $NAME $VERSION on $URL ($where; log in $STATE/$NAME.log)"
# setsid: its own session, so a Ctrl-C in the terminal that started it does not stop it. Every fd but the log
# is closed or /dev/null, so a caller reading this script's stdout/stderr sees EOF when the script exits.
setsid "$BIN/$NAME" "${args[@]}" </dev/null >>"$STATE/$NAME.log" 2>&1 9>&- &
pid=$!
echo "$pid" >"$STATE/$NAME.pid"

start=$(date +%s)
for i in $(seq 1 150); do
  kill -0 "$pid" 2>/dev/null || { tail -n 20 "$STATE/$NAME.log" >&2; die "$NAME exited (log: $STATE/$NAME.log)"; }
  answers "$PORT" && break
  [ "$i" -lt 150 ] || { tail -n 20 "$STATE/$NAME.log" >&2; die "$NAME does not answer on $URL after 30s (log: $STATE/$NAME.log)"; }
  sleep 0.2
done
say "up (pid $pid, $(($(date +%s) - start))s): export TAI_GCS_URL=$URL   env: $STATE/env   stop: bash hack/gcs-down.sh"
echo "$URL"
