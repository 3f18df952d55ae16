#!/usr/bin/env bash
# Builds (once per source version) hack/tlog-verify, a checker of TAI's log written on golang.org/x/mod's
# sumdb/tlog and sumdb/note — a verifier we did not write — and prints the binary's path. The module comes
# from the Go module proxy, pinned by hack/tlog-verify/go.sum; the binary is cached under
# ${TAI_CACHE:-$HOME/.cache/tai}/tlog-verify-<hash of its sources>/.
case "${BASH_VERSION:-}" in '') exec bash "$0" "$@" ;; esac
set -euo pipefail
SRC=$(cd "$(dirname "$0")/tlog-verify" && pwd)
hash=$(cat "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum" | sha256sum | cut -c1-12)
BIN=${TAI_CACHE:-$HOME/.cache/tai}/tlog-verify-$hash/tlog-verify
if [ ! -x "$BIN" ]; then
  command -v go >/dev/null || { echo "tlog-verify: Go (>= 1.26) is needed to build the x/mod verifier" >&2; exit 1; }
  echo "tlog-verify: building with $(go version | cut -d' ' -f3) (golang.org/x/mod from the Go module proxy)" >&2
  mkdir -p "$(dirname "$BIN")"
  (cd "$SRC" && go build -trimpath -o "$BIN.tmp" . && mv "$BIN.tmp" "$BIN")
fi
echo "$BIN"
