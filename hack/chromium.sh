#!/usr/bin/env bash
# Headless Chromium for the audit report's render test (test/audit-chromium.test.ts drives it through
# playwright-core): Debian's `chromium` package, which puts the browser at /usr/bin/chromium. Playwright's own
# browser download is not used: it fetches a browser build outside any package manager, which apt keeps patched.
#
#   bash hack/chromium.sh     install it if /usr/bin/chromium is missing (needs root, apt-get)
#
# stdout: the browser's path, alone, once it runs; progress and errors go to stderr.
case "${BASH_VERSION:-}" in '') exec bash "$0" "$@" ;; esac # invoked as `sh hack/chromium.sh`
set -euo pipefail

BROWSER=/usr/bin/chromium

say() { printf 'chromium: %s\n' "$*" >&2; }
die() { printf 'chromium: error: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
  '') ;;
  -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (none expected)" ;;
esac

install() {
  command -v apt-get >/dev/null 2>&1 || die "$BROWSER is missing and apt-get is not here: install Chromium so that $BROWSER runs"
  local sudo=
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "$BROWSER is missing: run as root (or with sudo): apt-get install -y --no-install-recommends chromium"
    sudo=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  say "installing Debian's chromium package (first run only; about 100 MB)"
  # Try the package lists already on the machine first; refresh them only when that fails (none yet, or stale).
  if ! $sudo apt-get install -y -q --no-install-recommends chromium >&2; then
    say "install failed with the current package lists: apt-get update, then again"
    $sudo apt-get update -q >&2 || die "apt-get update failed (see above)"
    $sudo apt-get install -y -q --no-install-recommends chromium >&2 || die "apt-get install chromium failed (see above)"
  fi
  [ -x "$BROWSER" ] || die "the chromium package installed, but $BROWSER is not there"
}

if [ -x "$BROWSER" ]; then
  say "$BROWSER is installed"
else
  install
fi
say "$("$BROWSER" --version 2>/dev/null || echo "$BROWSER (version unknown)")"
echo "$BROWSER"
