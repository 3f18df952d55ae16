#!/usr/bin/env bash
# A local Kubernetes control plane for tests and developers: etcd + kube-apiserver on 127.0.0.1, RBAC on.
#
#   sh hack/cluster-up.sh          (npm run cluster:up)      start (or report that it is already up)
#   sh hack/cluster-down.sh        (npm run cluster:down)    stop; --purge also deletes .tai/cluster
#
# kube-apiserver and etcd are built from the Go module proxy by the wrapper module in hack/cluster/
# (k8s.io/kubernetes at a pinned release, every staging module replaced by its published version, etcd
# from go.etcd.io/etcd/server/v3 in the same graph; see hack/cluster/gen-gomod.sh), once per machine,
# and cached under ${TAI_CACHE:-$HOME/.cache/tai}/k8s-<version>/. kubectl is the one on PATH, or is
# built the same way when there is none (TAI_BUILD_KUBECTL=1 forces that; once built, it is preferred).
#
# State lives in .tai/cluster/ (git-ignored): pki/ (openssl certificates), etcd/ (data), *.log, *.pid,
# kubeconfig (admin, system:masters) and env (ports, URLs, binary paths; shell syntax, one KEY=VALUE a line).
# If only one of the two processes is gone (say a test killed kube-apiserver), rerunning this starts just
# that one again, on the same ports, with the same certificates, so an existing kubeconfig stays valid.
#
# stdout: the kubeconfig path, alone, once the API server is ready; progress goes to stderr.
set -eu
case "${BASH_VERSION:-}" in '') exec bash "$0" "$@" ;; esac # invoked as `sh hack/cluster-up.sh`

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOD=$ROOT/hack/cluster
# TAI_CLUSTER_DIR gives a second, independent control plane its own state (tests that kill kube-apiserver use one).
STATE=${TAI_CLUSTER_DIR:-$ROOT/.tai/cluster}
PKI=$STATE/pki
KUBECONFIG_OUT=$STATE/kubeconfig

say() { printf 'cluster-up: %s\n' "$*" >&2; }

# One cluster-up at a time per state folder (parallel test workers may all ask for the cluster).
mkdir -p "$STATE"
if command -v flock >/dev/null 2>&1; then exec 9>"$STATE/.lock"; flock 9; fi
die() { printf 'cluster-up: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------- versions
K8S_VERSION=$(sed -n 's#^[[:space:]]*k8s.io/kubernetes \(v[0-9][^ ]*\).*#\1#p' "$MOD/go.mod" | head -n1)
ETCD_VERSION=$(sed -n 's#^[[:space:]]*\(require \)\{0,1\}go.etcd.io/etcd/server/v3 \(v[0-9][^ ]*\).*#\2#p' "$MOD/go.mod" | head -n1)
[ -n "$K8S_VERSION" ] && [ -n "$ETCD_VERSION" ] || die "cannot read the pinned versions from $MOD/go.mod"
CACHE_ROOT=${TAI_CACHE:-$HOME/.cache/tai}
BIN=$CACHE_ROOT/k8s-$K8S_VERSION

# ------------------------------------------------------------------------------------------- processes
# pid_of, port_busy, pick_port
# shellcheck source=hack/lib.sh
. "$ROOT/hack/lib.sh"

curl_api() { # curl_api PATH: GET https://127.0.0.1:$APISERVER_PORT/PATH as the admin user
  curl -sS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/$1"
}

# Ports persist in .tai/cluster/env so a restarted process comes back where clients expect it.
ETCD_PORT='' ETCD_PEER_PORT='' APISERVER_PORT=''
if [ -f "$STATE/env" ]; then
  ETCD_PORT=$(sed -n 's/^TAI_ETCD_PORT=//p' "$STATE/env")
  ETCD_PEER_PORT=$(sed -n 's/^TAI_ETCD_PEER_PORT=//p' "$STATE/env")
  APISERVER_PORT=$(sed -n 's/^TAI_APISERVER_PORT=//p' "$STATE/env")
fi

etcd_pid=$(pid_of etcd)
api_pid=$(pid_of kube-apiserver)

# ----------------------------------------------------------------------------------- already up? (idempotent)
if [ -n "$etcd_pid" ] && [ -n "$api_pid" ] && [ -n "$APISERVER_PORT" ] &&
  [ "$(curl_api readyz 2>/dev/null || true)" = ok ]; then
  say "already up: kube-apiserver $K8S_VERSION (pid $api_pid) on https://127.0.0.1:$APISERVER_PORT, etcd $ETCD_VERSION (pid $etcd_pid)"
  say "  export KUBECONFIG=$KUBECONFIG_OUT"
  echo "$KUBECONFIG_OUT"
  exit 0
fi

# --------------------------------------------------------------------------------------------- binaries
# kubectl: $TAI_KUBECTL, else one built here before (same version as the server), else the one on PATH,
# else build it (TAI_BUILD_KUBECTL=1 builds it even when PATH has one).
want="kube-apiserver etcd"
KUBECTL=${TAI_KUBECTL:-}
if [ -z "$KUBECTL" ]; then
  if [ -x "$BIN/kubectl" ] || [ "${TAI_BUILD_KUBECTL:-0}" = 1 ] || ! command -v kubectl >/dev/null 2>&1; then
    want="$want kubectl"
    KUBECTL=$BIN/kubectl
  else
    KUBECTL=$(command -v kubectl)
  fi
fi

# The stamp ties the cached binaries to the exact module graph and wrapper sources that built them.
# Bump RECIPE when the build commands below change in a way that should rebuild cached binaries.
RECIPE=2
stamp=$( (echo "recipe $RECIPE"; cat "$MOD/go.mod" "$MOD/go.sum" "$MOD/etcd/main.go") | sha256sum | cut -c1-16)
need_build=
for b in $want; do [ -x "$BIN/$b" ] || need_build=1; done
[ "$(cat "$BIN/.stamp" 2>/dev/null || true)" = "$stamp" ] || need_build=1

if [ -n "$need_build" ]; then
  command -v go >/dev/null 2>&1 || die "'go' is not on PATH. It is needed once per machine to build kube-apiserver
  $K8S_VERSION and etcd $ETCD_VERSION from the Go module proxy (Go >= $(sed -n 's/^go //p' "$MOD/go.mod"); https://go.dev/dl/).
  After that the binaries are reused from $BIN/."
  mkdir -p "$BIN"
  pkgs="k8s.io/kubernetes/cmd/kube-apiserver ./etcd"
  case " $want " in *" kubectl "*) pkgs="$pkgs k8s.io/kubernetes/cmd/kubectl" ;; esac
  say "building $want (kubernetes $K8S_VERSION, etcd $ETCD_VERSION) into $BIN/"
  say "  with $(go version | cut -d' ' -f3-); once per machine: about 4 minutes on 2 cores (more on a slow disk), log in $BIN/build.log"
  # Version stamps, as kubernetes' hack/lib/version.sh does; without them the server reports v0.0.0-master.
  minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  ldx=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldx="$ldx -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldx="$ldx -X $p.gitCommit= -X $p.gitTreeState=archive -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  out=$(mktemp -d "$BIN/.build.XXXXXX")
  start=$(date +%s)
  # One `go build` for all binaries so shared packages compile once and both cores stay busy.
  # shellcheck disable=SC2086
  (cd "$MOD" && CGO_ENABLED=0 GOFLAGS="-trimpath ${GOFLAGS:-}" \
    exec go build -v -ldflags="-s -w $ldx" -o "$out/" $pkgs) >"$BIN/build.log" 2>&1 &
  gopid=$!
  trap 'kill "$gopid" 2>/dev/null; rm -rf "$out"' INT TERM
  while kill -0 "$gopid" 2>/dev/null; do
    sleep 20
    kill -0 "$gopid" 2>/dev/null || break
    n=$(grep -c '^[a-zA-Z]' "$BIN/build.log" 2>/dev/null || true)
    say "  ... $(( ($(date +%s) - start) / 60 ))m$(( ($(date +%s) - start) % 60 ))s: $n packages compiled, now $(tail -n1 "$BIN/build.log" 2>/dev/null | cut -c1-90)"
  done
  if ! wait "$gopid"; then
    rm -rf "$out"
    tail -n 30 "$BIN/build.log" >&2
    die "go build failed (full log: $BIN/build.log)"
  fi
  trap - INT TERM
  for b in $want; do mv -f "$out/$b" "$BIN/$b"; done
  rm -rf "$out"
  echo "$stamp" >"$BIN/.stamp"
  say "built in $(( ($(date +%s) - start) / 60 ))m$(( ($(date +%s) - start) % 60 ))s: $(cd "$BIN" && du -ch $want | tail -n1 | cut -f1) in $BIN/"
else
  say "using cached kube-apiserver $K8S_VERSION and etcd $ETCD_VERSION from $BIN/"
fi
[ -x "$KUBECTL" ] || die "kubectl not found at $KUBECTL"

# ----------------------------------------------------------------------------------------- certificates
mkdir -p "$PKI" "$STATE/etcd"
chmod 700 "$STATE/etcd"
if [ ! -f "$PKI/admin.crt" ]; then
  command -v openssl >/dev/null 2>&1 || die "'openssl' is not on PATH (needed to make the cluster's certificates)"
  say "making certificates with openssl in $PKI/"
  ( cd "$PKI"
    umask 077
    ossl() { openssl "$@" 2>>openssl.log || { tail -n 20 openssl.log >&2; exit 1; }; }
    ossl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout ca.key -out ca.crt \
      -subj "/CN=tai-local-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign"
    # sign NAME SUBJECT EXTENSIONS: NAME.key + NAME.crt signed by the CA
    sign() {
      printf '%s\n' "$3" >"$1.ext"
      ossl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$1.key" -out "$1.csr" -subj "$2"
      ossl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 3650 \
        -extfile "$1.ext" -out "$1.crt"
      rm -f "$1.csr" "$1.ext"
    }
    sign apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    sign admin "/O=system:masters/CN=tai-admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    ossl genrsa -out sa.key 2048
    ossl rsa -in sa.key -pubout -out sa.pub
    rm -f ca.srl openssl.log
  ) || die "openssl failed"
fi

# ---------------------------------------------------------------------------------------------- ports
if [ -z "$etcd_pid" ]; then
  { [ -n "$ETCD_PORT" ] && ! port_busy "$ETCD_PORT"; } || ETCD_PORT=$(pick_port)
  { [ -n "$ETCD_PEER_PORT" ] && ! port_busy "$ETCD_PEER_PORT" && [ "$ETCD_PEER_PORT" != "$ETCD_PORT" ]; } ||
    while ETCD_PEER_PORT=$(pick_port); [ "$ETCD_PEER_PORT" = "$ETCD_PORT" ]; do :; done
fi
if [ -n "$api_pid" ]; then
  say "kube-apiserver (pid $api_pid) is running but not ready or etcd is down: restarting it"
  kill "$api_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$api_pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$api_pid" 2>/dev/null || true
  api_pid=
fi
{ [ -n "$APISERVER_PORT" ] && ! port_busy "$APISERVER_PORT"; } ||
  while APISERVER_PORT=$(pick_port); [ "$APISERVER_PORT" = "$ETCD_PORT" ] || [ "$APISERVER_PORT" = "$ETCD_PEER_PORT" ]; do :; done

cat >"$STATE/env" <<EOF
TAI_K8S_VERSION=$K8S_VERSION
TAI_ETCD_VERSION=$ETCD_VERSION
TAI_APISERVER_PORT=$APISERVER_PORT
TAI_APISERVER_URL=https://127.0.0.1:$APISERVER_PORT
TAI_ETCD_PORT=$ETCD_PORT
TAI_ETCD_PEER_PORT=$ETCD_PEER_PORT
TAI_ETCD_URL=http://127.0.0.1:$ETCD_PORT
TAI_KUBECONFIG=$KUBECONFIG_OUT
TAI_KUBECTL=$KUBECTL
TAI_KUBE_APISERVER=$BIN/kube-apiserver
TAI_ETCD=$BIN/etcd
EOF

# ----------------------------------------------------------------------------------------------- etcd
if [ -z "$etcd_pid" ]; then
  say "starting etcd $ETCD_VERSION on http://127.0.0.1:$ETCD_PORT (data in $STATE/etcd, log in $STATE/etcd.log)"
  # setsid: its own session, so a Ctrl-C in the terminal that started it does not stop it.
  setsid "$BIN/etcd" \
    --name=tai --data-dir="$STATE/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="tai=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true --log-level=warn \
    </dev/null >>"$STATE/etcd.log" 2>&1 9>&- &
  etcd_pid=$!
  echo "$etcd_pid" >"$STATE/etcd.pid"
  for i in $(seq 1 150); do
    kill -0 "$etcd_pid" 2>/dev/null || { tail -n 20 "$STATE/etcd.log" >&2; die "etcd exited (log: $STATE/etcd.log)"; }
    curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"' && break
    [ "$i" -lt 150 ] || { tail -n 20 "$STATE/etcd.log" >&2; die "etcd not healthy after 30s (log: $STATE/etcd.log)"; }
    sleep 0.2
  done
  say "etcd is healthy (pid $etcd_pid)"
else
  say "etcd already running (pid $etcd_pid) on http://127.0.0.1:$ETCD_PORT"
fi

# ------------------------------------------------------------------------------------- kube-apiserver
# The envtest flag set: loopback only, certificates from pki/, RBAC, no controller-manager (so no
# ServiceAccount admission and no endpoint reconciling), priority-and-fairness off to save CPU.
say "starting kube-apiserver $K8S_VERSION on https://127.0.0.1:$APISERVER_PORT (log in $STATE/kube-apiserver.log)"
setsid "$BIN/kube-apiserver" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --cert-dir="$PKI" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range=10.0.0.0/24 \
  --authorization-mode=RBAC --allow-privileged=true \
  --disable-admission-plugins=ServiceAccount \
  --endpoint-reconciler-type=none \
  --enable-priority-and-fairness=false \
  --profiling=false \
  ${TAI_APISERVER_FLAGS:-} \
  </dev/null >>"$STATE/kube-apiserver.log" 2>&1 9>&- &
api_pid=$!
echo "$api_pid" >"$STATE/kube-apiserver.pid"

# --------------------------------------------------------------------------------------------- kubeconfig
b64() { base64 <"$1" | tr -d '\n'; }
umask_old=$(umask); umask 077
cat >"$KUBECONFIG_OUT.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: tai
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: tai-admin
  user:
    client-certificate-data: $(b64 "$PKI/admin.crt")
    client-key-data: $(b64 "$PKI/admin.key")
contexts:
- name: tai
  context:
    cluster: tai
    user: tai-admin
    namespace: default
current-context: tai
EOF
mv -f "$KUBECONFIG_OUT.tmp" "$KUBECONFIG_OUT"
umask "$umask_old"

start=$(date +%s)
for i in $(seq 1 600); do
  kill -0 "$api_pid" 2>/dev/null || { tail -n 30 "$STATE/kube-apiserver.log" >&2; die "kube-apiserver exited (log: $STATE/kube-apiserver.log)"; }
  [ "$(curl_api readyz 2>/dev/null || true)" = ok ] && break
  [ "$i" -lt 600 ] || { curl_api 'readyz?verbose' >&2 || true; die "kube-apiserver not ready after 120s (log: $STATE/kube-apiserver.log)"; }
  sleep 0.2
done
say "kube-apiserver is ready (pid $api_pid, $(( $(date +%s) - start ))s)"
say ""
say "  export KUBECONFIG=$KUBECONFIG_OUT"
say "  $KUBECTL get ns                    # admin (system:masters); try --as=NAME to test RBAC"
say "  env: $STATE/env   logs: $STATE/*.log   stop: npm run cluster:down"
echo "$KUBECONFIG_OUT"
