#!/bin/sh
# Stops the local control plane started by hack/cluster-up.sh (npm run cluster:down).
#
#   sh hack/cluster-down.sh            stop kube-apiserver, then etcd (by the PIDs in .tai/cluster/*.pid)
#   sh hack/cluster-down.sh --purge    ... and delete .tai/cluster (etcd data, certificates, kubeconfig, logs)
#
# The cached binaries in ${TAI_CACHE:-$HOME/.cache/tai} are kept; delete that directory to rebuild them.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# TAI_CLUSTER_DIR gives a second, independent control plane its own state (tests that kill kube-apiserver use one).
STATE=${TAI_CLUSTER_DIR:-$ROOT/.tai/cluster}

purge=
for a in "$@"; do
  case "$a" in
    --purge) purge=1 ;;
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster-down: unknown argument '$a' (only --purge)" >&2; exit 2 ;;
  esac
done

say() { printf 'cluster-down: %s\n' "$*" >&2; }

# stop NAME: stop the process in NAME.pid if it is alive and really is our NAME binary.
stop() {
  f=$STATE/$1.pid
  [ -f "$f" ] || { say "$1: not running (no pid file)"; return 0; }
  pid=$(cat "$f" 2>/dev/null || true)
  case "$pid" in '' | *[!0-9]*) rm -f "$f"; say "$1: not running"; return 0 ;; esac
  if ! kill -0 "$pid" 2>/dev/null ||
    ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "/$1 "; then
    rm -f "$f"; say "$1: not running (stale pid $pid)"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    say "$1: still running after 10s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$f"
  say "$1: stopped (pid $pid)"
}

if [ -d "$STATE" ]; then
  stop kube-apiserver
  stop etcd
else
  say "nothing to stop ($STATE does not exist)"
fi

if [ -n "$purge" ] && [ -d "$STATE" ]; then
  rm -rf "$STATE"
  say "removed $STATE"
fi
