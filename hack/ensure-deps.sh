#!/bin/sh
# Installs npm dependencies (including the project's own Node, the npm package `node`) when they are
# missing or older than the lockfile, so `npm start` and `npm test` work on a fresh clone.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "tai: installing npm dependencies (first run)…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
