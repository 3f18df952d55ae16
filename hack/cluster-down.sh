#!/usr/bin/env bash
# Stops the local control plane started by hack/cluster-up.sh (npm run cluster:down).
#
#   sh hack/cluster-down.sh            stop kube-apiserver, then etcd (by the PIDs in .tai/cluster/*.pid)
#   sh hack/cluster-down.sh --purge    ... and delete .tai/cluster (etcd data, certificates, kubeconfig, logs)
#
# The cached binaries in ${TAI_CACHE:-$HOME/.cache/tai} are kept; delete that directory to rebuild them.
case "${BASH_VERSION:-}" in '') exec bash "$0" "$@" ;; esac # invoked as `sh hack/cluster-down.sh`
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# TAI_CLUSTER_DIR gives a second, independent control plane its own state (tests that kill kube-apiserver use one).
STATE=${TAI_CLUSTER_DIR:-$ROOT/.tai/cluster}

say() { printf 'cluster-down: %s\n' "$*" >&2; }
die() { printf 'cluster-down: error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=hack/lib.sh
. "$ROOT/hack/lib.sh"

down_main cluster-down "kube-apiserver etcd" "$@"
