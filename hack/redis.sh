#!/usr/bin/env bash
# The shared-counter store and the load balancer for the scale-out tests (issue 17, design §9), from Debian:
# `redis-server` (/usr/bin/redis-server; bookworm ships Redis 7.0, built with TLS, a version Memorystore offers)
# and `haproxy` (/usr/sbin/haproxy, 2.6 LTS), standing in for the Service in front of several replicas. Both in
# one apt-get run on first use (cold: about 7 s; two runs took 14 s). Tests start their own servers on free
# loopback ports in temporary folders (test/support/redis-server.ts, test/support/haproxy.ts); where the machine
# runs an init system, the packages' own services are left to it and never used.
#
#   bash hack/redis.sh     install what is missing (needs root or sudo, apt-get)
#
# stdout, once both run: TAI_REDIS_SERVER=PATH and TAI_HAPROXY=PATH, one a line; progress and errors go to stderr.
case "${BASH_VERSION:-}" in '') exec bash "$0" "$@" ;; esac # invoked as `sh hack/redis.sh`
set -euo pipefail

REDIS_SERVER=/usr/bin/redis-server
HAPROXY=/usr/sbin/haproxy

say() { printf 'redis: %s\n' "$*" >&2; }
die() { printf 'redis: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=hack/apt-lib.sh
. "$(dirname "$0")/apt-lib.sh"

case "${1:-}" in
  '') ;;
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (none expected)" ;;
esac

apt_ensure "4 MB at most" "$REDIS_SERVER=redis-server" "$HAPROXY=haproxy"
redis_version=$("$REDIS_SERVER" --version 2>&1) || die "$REDIS_SERVER does not run: $redis_version"
haproxy_version=$("$HAPROXY" -v 2>&1) || die "$HAPROXY does not run: $haproxy_version"
say "${redis_version%% sha=*}; ${haproxy_version%% - *}"
echo "TAI_REDIS_SERVER=$REDIS_SERVER"
echo "TAI_HAPROXY=$HAPROXY"
