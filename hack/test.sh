#!/bin/sh
# The README's test command: installs what it needs, then runs every level of test.
set -eu
cd "$(dirname "$0")/.."
sh hack/ensure-deps.sh
PATH="$PWD/node_modules/.bin:$PATH"
export PATH
echo "== node $(node --version)"
echo "== typecheck"; tsc -p tsconfig.json
echo "== lint"; eslint .
echo "== tests"; ava
