#!/bin/sh
# The README's test command: installs what it needs, starts the local control plane, runs every level of
# test, and stops what it started.
set -eu
cd "$(dirname "$0")/.."
sh hack/ensure-deps.sh
PATH="$PWD/node_modules/.bin:$PATH"
export PATH
echo "== node $(node --version)"
echo "== typecheck"; tsc -p tsconfig.json
echo "== lint"; eslint .
echo "== local control plane (kube-apiserver + etcd; built from the Go module proxy on first use)"
# A control plane that was already up (a developer's) is left running; one started here is stopped.
up_log=$(mktemp)
up_status=$(mktemp)
{ if bash hack/cluster-up.sh >/dev/null; then echo 0; else echo 1; fi >"$up_status"; } 2>&1 | tee "$up_log" | sed 's/^/  /'
[ "$(cat "$up_status")" = 0 ] || { echo "the local control plane did not start (see above)" >&2; exit 1; }
if ! grep -q 'already up' "$up_log"; then trap 'sh hack/cluster-down.sh' EXIT; fi
rm -f "$up_log" "$up_status"
echo "== GCS emulator (fake-gcs-server, built from the Go module proxy on first use)"; bash hack/gcs-up.sh --build-only >/dev/null
echo "== x/mod tlog verifier (built from the Go module proxy on first use)"; bash hack/tlog-verify.sh >/dev/null
echo "== chromium (Debian package, installed on first use)"; bash hack/chromium.sh >/dev/null
echo "== redis-server and haproxy (Debian packages, installed on first use)"; bash hack/redis.sh >/dev/null
echo "== schemathesis (PyPI, pinned, installed on first use under ~/.cache/tai)"; bash hack/schemathesis.sh >/dev/null
echo "== tests"; ava
