#!/usr/bin/env bash
# Schemathesis (PyPI), for test/schemathesis.test.ts: a pinned version in its own virtualenv under
# ~/.cache/tai/, made with the system python3 once per machine.
#
#   bash hack/schemathesis.sh     install it if missing
#
# stdout: the path of its `st` command, alone, once it runs; progress and errors go to stderr.
case "${BASH_VERSION:-}" in '') exec bash "$0" "$@" ;; esac # invoked as `sh hack/schemathesis.sh`
set -euo pipefail

VERSION=4.32.5
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tai"
VENV="$CACHE/schemathesis-$VERSION"
ST="$VENV/bin/st"

say() { printf 'schemathesis: %s\n' "$*" >&2; }
die() { printf 'schemathesis: error: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
  '') ;;
  -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (none expected)" ;;
esac

install() {
  command -v python3 >/dev/null 2>&1 || die "python3 is missing: schemathesis needs Python 3.9 or later"
  say "installing schemathesis $VERSION from PyPI into $VENV (first run only)"
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2 || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$VERSION" >&2 || die "pip install schemathesis==$VERSION failed (see above)"
  "$ST" --version >/dev/null 2>&1 || die "installed, but $ST does not run"
  touch "$VENV/.installed" # last: a run that died half way leaves no marker, and the next one starts over
}

mkdir -p "$CACHE"
exec 9>"$CACHE/schemathesis.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi # two runs at once: the second waits for the first one's install
if [ -f "$VENV/.installed" ] && "$ST" --version >/dev/null 2>&1; then
  say "schemathesis $VERSION is installed"
else
  install
fi
say "$("$ST" --version 2>/dev/null)"
echo "$ST"
