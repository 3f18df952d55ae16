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
# shellcheck source=hack/apt-lib.sh
. "$(dirname "$0")/apt-lib.sh"

case "${1:-}" in
  '') ;;
  -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (none expected)" ;;
esac

if [ -x "$BROWSER" ]; then say "$BROWSER is installed"; fi
apt_ensure "about 100 MB" "$BROWSER=chromium"
say "$("$BROWSER" --version 2>/dev/null || echo "$BROWSER (version unknown)")"
echo "$BROWSER"
