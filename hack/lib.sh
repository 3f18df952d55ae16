# shellcheck shell=bash
# Shared by the scripts that run local components (cluster-up/down, gcs-up/down). Bash; the caller defines
# say MESSAGE and die MESSAGE, and STATE, the folder holding NAME.pid files.

# is_ours PID NAME: PID is alive and its argv[0] is our NAME binary. (A killed process nobody has reaped yet is
# a zombie: kill -0 succeeds but its cmdline is empty.)
is_ours() {
  local exe=
  kill -0 "$1" 2>/dev/null || return 1
  read -r -d '' exe 2>/dev/null <"/proc/$1/cmdline" || [ -n "$exe" ] || return 1
  [[ $exe == */$2 ]]
}

# pid_of NAME: the PID in $STATE/NAME.pid if that process is alive and really is our NAME binary, else nothing.
pid_of() {
  local f=$STATE/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  is_ours "$pid" "$1" && echo "$pid"
  return 0
}

# stop_process NAME: SIGTERM the process of $STATE/NAME.pid (SIGKILL after 10 s) and remove the pid file.
stop_process() {
  local f=$STATE/$1.pid pid i=0
  [ -f "$f" ] || { say "$1: not running (no pid file)"; return 0; }
  pid=$(pid_of "$1")
  if [ -z "$pid" ]; then rm -f "$f"; say "$1: not running (stale pid file)"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  while is_ours "$pid" "$1" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  if is_ours "$pid" "$1"; then
    say "$1: still running after 10s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$f"
  say "$1: stopped (pid $pid)"
}

# port_busy PORT: something listens on 127.0.0.1:PORT. (Sockets left by a killed server, in TIME_WAIT, do not
# count: the restarted server binds with SO_REUSEADDR. Outgoing connections cannot hold these ports: pick_port
# chooses below the ephemeral range.)
port_busy() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# pick_port: a free port below the kernel's ephemeral range, so no outgoing connection takes it between the
# pick and the bind, or before a later restart on the saved ports (an etcd port of 36990 once was).
pick_port() {
  local p low span
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  if [ "$low" -gt 12000 ]; then span=$((low - 10000)); low=10000; else low=$((low + 20000)); span=5000; fi
  for _ in $(seq 1 200); do
    p=$((low + (RANDOM * 32768 + RANDOM) % span))
    port_busy "$p" || { echo "$p"; return; }
  done
  die "no free TCP port found on 127.0.0.1"
}

# down_main TOOL "NAME…" ARGS…: the whole of a *-down.sh script. Stops each NAME (by $STATE/NAME.pid), in order;
# with --purge also deletes $STATE. Prints the script's header comment for --help.
down_main() {
  local tool=$1 names=$2 purge= a name
  shift 2
  for a in "$@"; do
    case "$a" in
      --purge) purge=1 ;;
      -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) echo "$tool: unknown argument '$a' (only --purge)" >&2; exit 2 ;;
    esac
  done
  if [ -d "$STATE" ]; then
    for name in $names; do stop_process "$name"; done
  else
    say "nothing to stop ($STATE does not exist)"
  fi
  if [ -n "$purge" ] && [ -d "$STATE" ]; then
    rm -rf "$STATE"
    say "removed $STATE"
  fi
}
