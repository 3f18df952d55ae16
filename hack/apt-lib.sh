# shellcheck shell=bash
# Shared by the scripts that install Debian packages on first use (chromium.sh, redis.sh). Bash; the caller
# defines say MESSAGE and die MESSAGE.

# apt_ensure WHAT BIN=PKG…: installs, in one apt-get run (each run costs seconds of dpkg triggers), every PKG
# whose BIN is not executable, as root or through sudo; then checks that each BIN is there. WHAT ("about 100
# MB") goes in the progress line. Concurrent callers (two test workers) take turns on a lock under ~/.cache/tai,
# and the second finds the packages installed. Quick (no apt at all) when every BIN is there.
apt_ensure() {
  local what=$1 pair sudo= cache
  shift
  apt_missing "$@" >/dev/null || return 0
  command -v apt-get >/dev/null 2>&1 || die "$(apt_missing "$@") missing and apt-get is not here: install Debian's $(apt_packages "$@")"
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "$(apt_missing "$@") missing: run as root (or with sudo): apt-get install -y --no-install-recommends $(apt_packages "$@")"
    sudo=sudo
  fi
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/tai
  mkdir -p "$cache"
  exec 8>"$cache/apt.lock"
  if command -v flock >/dev/null 2>&1; then flock 8; fi
  if apt_missing "$@" >/dev/null; then
    apt_install "$what" "$sudo" $(apt_packages "$@")
  fi
  exec 8>&-
  for pair in "$@"; do
    [ -x "${pair%%=*}" ] || die "the package ${pair#*=} installed, but ${pair%%=*} is not there"
  done
}

# apt_missing BIN=PKG…: prints the missing BINs (one line) and succeeds when any is missing.
apt_missing() {
  local pair missing=
  for pair in "$@"; do [ -x "${pair%%=*}" ] || missing="$missing ${pair%%=*}"; done
  [ -n "$missing" ] && echo "${missing# }"
}

# apt_packages BIN=PKG…: the PKGs whose BIN is missing.
apt_packages() {
  local pair pkgs=
  for pair in "$@"; do [ -x "${pair%%=*}" ] || pkgs="$pkgs ${pair#*=}"; done
  echo "${pkgs# }"
}

# apt_install WHAT SUDO PKG…: apt-get install, trying the package lists already on the machine first and refreshing
# them only when that fails (none yet, or stale). The lock timeout: an apt run by someone else is waited for.
apt_install() {
  local what=$1 sudo=$2
  shift 2
  local apt=(apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 "$@")
  export DEBIAN_FRONTEND=noninteractive
  say "installing Debian's $* (first run only; $what)"
  if ! $sudo "${apt[@]}" >&2; then
    say "install failed with the current package lists: apt-get update, then again"
    $sudo apt-get update -q -o DPkg::Lock::Timeout=120 >&2 || die "apt-get update failed (see above)"
    $sudo "${apt[@]}" >&2 || die "apt-get install $* failed (see above)"
  fi
}
