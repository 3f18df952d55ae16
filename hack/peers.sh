#!/usr/bin/env bash
# Builds the peers the bench runs beside TAI (bench/scenarios/peers.ts): what a platform team would run instead.
#
#   bash hack/peers.sh          build (or find) both binaries; stdout: the env file's path, alone
#   bash hack/peers.sh --print  the same, then the env file's contents on stdout
#
#   opa         github.com/open-policy-agent/opa                       v1.22.4  (feature checks in Rego)
#   gubernator  github.com/gubernator-io/gubernator/v2/cmd/gubernator  v2.13.0  (token-bucket rate limits;
#               v2.21.0 needs a newer Go than 1.26)
#
# Both come from the Go module proxy (go install MODULE@VERSION), once per machine, cached under
# ${TAI_CACHE:-$HOME/.cache/tai}/peers-opa-<v>-gubernator-<v>/ with a build log per binary. One build at a time
# per machine (flock). A peer that fails to build does not stop the other: its line in env is empty, its
# failure is in <name>.build.log, and the bench skips it loudly. Exit status 0 as long as the env file is written.
#
# env (shell syntax, one KEY=VALUE a line): TAI_PEER_OPA, TAI_PEER_OPA_VERSION, TAI_PEER_GUBERNATOR,
# TAI_PEER_GUBERNATOR_VERSION, and TAI_PEER_<NAME>_ERROR (a one-line reason) for a peer that did not build.
case "${BASH_VERSION:-}" in '') exec bash "$0" "$@" ;; esac # invoked as `sh hack/peers.sh`
set -euo pipefail

OPA_VERSION=v1.22.4
GUBERNATOR_VERSION=v2.13.0
CACHE_ROOT=${TAI_CACHE:-$HOME/.cache/tai}
BIN=$CACHE_ROOT/peers-opa-$OPA_VERSION-gubernator-$GUBERNATOR_VERSION

say() { printf 'peers: %s\n' "$*" >&2; }
die() { printf 'peers: error: %s\n' "$*" >&2; exit 1; }

print=
for a in "$@"; do
  case "$a" in
    --print) print=1 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$a' (only --print)" ;;
  esac
done

find_go() {
  local go
  go=$(command -v go 2>/dev/null || true)
  if [ -z "$go" ] && [ -x /usr/local/go/bin/go ]; then go=/usr/local/go/bin/go; fi # the official tarball's place
  echo "$go"
}

# build NAME PACKAGE@VERSION: go install into a scratch folder, then move the binary into $BIN/NAME.
# Prints nothing on success; on failure leaves the log and returns 1.
build() {
  local name=$1 pkg=$2 go=$3 out start gopid last=0 n
  local log=$BIN/$name.build.log
  say "building $name ($pkg) from the Go module proxy (first run only) into $BIN/"
  say "  with $("$go" version | cut -d' ' -f3-); log in $log"
  out=$(mktemp -d "$BIN/.build.XXXXXX")
  start=$(date +%s)
  # CGO off: static binaries, and OPA then builds without its optional Wasm engine (the bench does not use it).
  # 8>&-: the build must not hold the lock if this script is killed.
  GOBIN=$out CGO_ENABLED=0 GOFLAGS="-trimpath ${GOFLAGS:-}" \
    "$go" install -v -ldflags="-s -w" "$pkg" </dev/null >"$log" 2>&1 8>&- &
  gopid=$!
  trap 'kill "$gopid" 2>/dev/null; rm -rf "$out"' INT TERM
  while kill -0 "$gopid" 2>/dev/null; do
    sleep 1
    [ $(($(date +%s) - start)) -ge "$((last + 15))" ] || continue
    last=$(($(date +%s) - start))
    n=$(grep -c '^[a-zA-Z]' "$log" 2>/dev/null || true)
    say "  ... ${last}s: $n modules downloaded or packages compiled, now $(tail -n1 "$log" 2>/dev/null | cut -c1-80)"
  done
  if ! wait "$gopid"; then
    trap - INT TERM
    rm -rf "$out"
    tail -n 20 "$log" >&2
    say "go install $pkg failed (full log: $log)"
    return 1
  fi
  trap - INT TERM
  mv -f "$out/$(basename "${pkg%@*}")" "$BIN/$name"
  rm -rf "$out"
  say "built $name in $(($(date +%s) - start))s: $(du -h "$BIN/$name" | cut -f1)"
}

# ensure NAME PACKAGE@VERSION GO: the cached binary, else a build; sets ERROR to a reason when there is none.
ensure() {
  local name=$1 pkg=$2 go=$3
  ERROR=
  if [ -x "$BIN/$name" ]; then say "using cached $name from $BIN/"; return 0; fi
  if [ -z "$go" ]; then
    ERROR="'go' is not on PATH (needed once per machine: go install $pkg)"
  elif ! build "$name" "$pkg" "$go"; then
    ERROR="go install $pkg failed: $(grep -v '^\s*$' "$BIN/$name.build.log" | tail -n1 | cut -c1-200)"
  fi
  [ -z "$ERROR" ] || say "$name: $ERROR"
}

mkdir -p "$BIN"
# One build per machine even when two benches start at once.
if command -v flock >/dev/null 2>&1; then exec 8>"$BIN/.lock"; flock 8; fi
GO=$(find_go)
# OPA first: it is the large one.
ensure opa "github.com/open-policy-agent/opa@$OPA_VERSION" "$GO"
OPA_ERROR=$ERROR
ensure gubernator "github.com/gubernator-io/gubernator/v2/cmd/gubernator@$GUBERNATOR_VERSION" "$GO"
GUBERNATOR_ERROR=$ERROR

path_if_built() { if [ -x "$BIN/$1" ]; then echo "$BIN/$1"; fi; }
tmp=$(mktemp "$BIN/.env.XXXXXX")
{
  echo "TAI_PEER_OPA=$(path_if_built opa)"
  echo "TAI_PEER_OPA_VERSION=$OPA_VERSION"
  echo "TAI_PEER_OPA_ERROR=$OPA_ERROR"
  echo "TAI_PEER_GUBERNATOR=$(path_if_built gubernator)"
  echo "TAI_PEER_GUBERNATOR_VERSION=$GUBERNATOR_VERSION"
  echo "TAI_PEER_GUBERNATOR_ERROR=$GUBERNATOR_ERROR"
} >"$tmp"
mv -f "$tmp" "$BIN/env"
exec 8>&-
echo "$BIN/env"
if [ -n "$print" ]; then cat "$BIN/env"; fi
