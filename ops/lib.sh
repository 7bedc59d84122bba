# shellcheck shell=bash
# Shared helpers for the ops/ scripts. Source it; do not execute it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets STRATO_ROOT (repo root) and provides logging, port, PostgreSQL and
# nats-server helpers. All helpers assume `set -euo pipefail` in the caller.

if [[ -n "${_STRATO_OPS_LIB:-}" ]]; then
  return 0
fi
_STRATO_OPS_LIB=1

STRATO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export STRATO_ROOT

# Prefix for log lines; each script sets its own, e.g. LOG_PREFIX=test.
LOG_PREFIX="${LOG_PREFIX:-ops}"

log() { printf '[%s] %s\n' "$LOG_PREFIX" "$*"; }
warn() { printf '[%s] warning: %s\n' "$LOG_PREFIX" "$*" >&2; }

# tail_log FILE [LINES]: print the tail of a log file to stderr, if it exists.
tail_log() {
  local file="$1" lines="${2:-30}"
  if [[ -s "$file" ]]; then
    printf '[%s] --- last %s lines of %s ---\n' "$LOG_PREFIX" "$lines" "$file" >&2
    tail -n "$lines" "$file" >&2 || true
    printf '[%s] ---\n' "$LOG_PREFIX" >&2
  fi
}

# die MESSAGE [LOGFILE]: print an error (and a log tail) and exit 1.
die() {
  printf '[%s] error: %s\n' "$LOG_PREFIX" "$1" >&2
  if [[ $# -ge 2 ]]; then
    tail_log "$2"
  fi
  exit 1
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# ---------------------------------------------------------------------------
# Ports

# port_in_use PORT: true if something listens on PORT.
port_in_use() {
  local port="$1"
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# port_taken PORT: true if any TCP socket uses local port PORT, listening or
# not. A client connection's port (also in TIME-WAIT) blocks a server's bind.
port_taken() {
  local port="$1"
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htan "sport = :$port" 2>/dev/null)" ]]
  else
    port_in_use "$port"
  fi
}

# port_open PORT: true if a TCP connection to 127.0.0.1:PORT succeeds.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ports handed out by find_free_port in this shell, so two calls never collide.
_STRATO_PORTS_TAKEN=" "

# find_free_port VAR: set VAR to a random TCP port that no socket uses, below
# the kernel's ephemeral range (so outgoing connections cannot take it in the
# meantime). Callers still retry on a clash.
find_free_port() {
  local _ffp_port _ffp_i _ffp_lo=20000 _ffp_hi=32767 _ffp_eph
  if read -r _ffp_eph _ <"/proc/sys/net/ipv4/ip_local_port_range" 2>/dev/null &&
    [[ "$_ffp_eph" =~ ^[0-9]+$ ]]; then
    if ((_ffp_eph > 12000)); then
      _ffp_hi=$((_ffp_eph - 1))
      _ffp_lo=$((_ffp_eph > 30000 ? 20000 : 10000))
    fi
  fi
  for ((_ffp_i = 0; _ffp_i < 200; _ffp_i++)); do
    _ffp_port=$((_ffp_lo + (RANDOM * 32768 + RANDOM) % (_ffp_hi - _ffp_lo + 1)))
    [[ "$_STRATO_PORTS_TAKEN" == *" $_ffp_port "* ]] && continue
    if ! port_taken "$_ffp_port"; then
      _STRATO_PORTS_TAKEN+="$_ffp_port "
      printf -v "$1" '%s' "$_ffp_port"
      return 0
    fi
  done
  die "could not find a free TCP port"
}

# wait_port PORT TIMEOUT_SECONDS [PID]: wait until 127.0.0.1:PORT accepts
# connections. Fails early if PID is given and that process is gone.
wait_port() {
  local port="$1" timeout="$2" pid="${3:-}" i
  for ((i = 0; i < timeout * 10; i++)); do
    port_open "$port" && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------------------
# PostgreSQL

# pg_bindir: directory with initdb/pg_ctl/postgres (not relying on PATH).
pg_bindir() {
  local dir=""
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
  fi
  if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
    printf '%s\n' "$dir"
    return 0
  fi
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
  die "PostgreSQL server binaries (initdb, pg_ctl) not found; run ops/setup"
}

# as_pg: run a command as the postgres OS user when we are root (PostgreSQL
# refuses to run as root), otherwise as ourselves. Runs from / so that an
# unreadable current directory does not bother initdb/pg_ctl.
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# pg_own PATH...: hand files/dirs to the postgres user when running as root.
pg_own() {
  if is_root; then
    chown postgres:postgres "$@"
  fi
}

# pg_check_traversable DIR: when root, make sure user postgres can reach DIR.
pg_check_traversable() {
  local dir="$1"
  if is_root && ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
    die "user postgres cannot access $dir (a parent directory is not world-traversable; chmod o+x it or move the repo)"
  fi
}

# pg_init DATADIR LOGFILE: create a cluster in DATADIR unless one exists.
# Superuser "postgres", trust auth (local use only), UTF8, C.UTF-8 locale.
pg_init() {
  local datadir="$1" logfile="$2" bindir locale
  if [[ -f "$datadir/PG_VERSION" ]]; then
    return 0
  fi
  bindir="$(pg_bindir)"
  mkdir -p "$datadir"
  chmod 700 "$datadir"
  pg_own "$datadir"
  pg_check_traversable "$datadir"
  locale=C.UTF-8
  if ! locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    locale=C
  fi
  if ! as_pg "$bindir/initdb" -D "$datadir" --auth=trust --username=postgres \
    -E UTF8 --locale="$locale" >"$logfile" 2>&1; then
    die "initdb failed for $datadir" "$logfile"
  fi
}

# pg_running DATADIR: true if a postmaster is running on DATADIR.
pg_running() {
  local datadir="$1" bindir
  [[ -f "$datadir/postmaster.pid" ]] || return 1
  bindir="$(pg_bindir)"
  as_pg "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1
}

# pg_start DATADIR PORT LOGFILE [EXTRA_POSTGRES_OPTS]: start the cluster on
# 127.0.0.1:PORT and wait until it accepts connections; returns 1 on failure
# (see LOGFILE). The unix socket goes into DATADIR when the path is short
# enough, otherwise it is disabled.
pg_start() {
  local datadir="$1" port="$2" logfile="$3" extra="${4:-}" bindir sockdir opts i
  bindir="$(pg_bindir)"
  sockdir="$datadir"
  if ((${#sockdir} > 80)) || [[ "$sockdir" == *[[:space:]\',]* ]]; then
    sockdir=""
  fi
  touch "$logfile"
  pg_own "$logfile"
  opts="-c listen_addresses=127.0.0.1 -c port=$port -c max_connections=200"
  opts+=" -c unix_socket_directories='$sockdir'"
  if [[ -n "$extra" ]]; then
    opts+=" $extra"
  fi
  # shellcheck disable=SC2094 # pg_ctl and the postmaster both append to it
  if ! as_pg "$bindir/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 \
    -o "$opts" start >>"$logfile" 2>&1; then
    return 1
  fi
  for ((i = 0; i < 100; i++)); do
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
      return 0
    fi
    sleep 0.1
  done
  echo "pg_isready -h 127.0.0.1 -p $port: not ready after 10s" >>"$logfile"
  pg_stop "$datadir" immediate
  return 1
}

# pg_stop DATADIR [MODE]: stop the cluster (MODE fast|immediate, default fast).
pg_stop() {
  local datadir="$1" mode="${2:-fast}" bindir pid
  [[ -f "$datadir/postmaster.pid" ]] || return 0
  bindir="$(pg_bindir)"
  if as_pg "$bindir/pg_ctl" -D "$datadir" -m "$mode" -w -t 30 stop >/dev/null 2>&1; then
    return 0
  fi
  # pg_ctl failed: kill the postmaster directly if it is still there.
  pid="$(head -n1 "$datadir/postmaster.pid" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    warn "pg_ctl stop failed; killing postmaster $pid"
    kill -QUIT "$pid" 2>/dev/null || true
    sleep 1
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

# ---------------------------------------------------------------------------
# nats-server

# nats_bin: path of nats-server (honours STRATO_NATS_SERVER_BIN).
nats_bin() {
  local bin
  if [[ -n "${STRATO_NATS_SERVER_BIN:-}" && -x "${STRATO_NATS_SERVER_BIN}" ]]; then
    printf '%s\n' "$STRATO_NATS_SERVER_BIN"
    return 0
  fi
  for bin in "$(command -v nats-server 2>/dev/null || true)" /usr/sbin/nats-server /usr/bin/nats-server; do
    if [[ -n "$bin" && -x "$bin" ]]; then
      printf '%s\n' "$bin"
      return 0
    fi
  done
  die "nats-server not found; run ops/setup"
}

# nats_start STOREDIR PORT LOGFILE PIDFILE [CONFIG]: start nats-server with
# JetStream on 127.0.0.1:PORT in the background and wait until it reports ready
# and accepts connections. Its PID goes to PIDFILE. CONFIG, when given, is its
# configuration file instead, which must say the same listen address and store
# (strato-hostd nats-config writes one with users). Returns 1 on failure (see
# LOGFILE).
nats_start() {
  local storedir="$1" port="$2" logfile="$3" pidfile="$4" bin pid offset i
  local args=(-js -a 127.0.0.1 -p "$port" -sd "$storedir")
  if [[ -n "${5:-}" ]]; then
    args=(-c "$5")
  fi
  bin="$(nats_bin)"
  mkdir -p "$storedir"
  touch "$logfile"
  offset=$(($(stat -c %s "$logfile") + 1))
  # In its own session so that a Ctrl-C in the terminal does not reach it:
  # the caller stops it after the processes that use it.
  local setsid=()
  if command -v setsid >/dev/null 2>&1; then
    setsid=(setsid)
  fi
  "${setsid[@]}" "$bin" "${args[@]}" </dev/null >>"$logfile" 2>&1 &
  pid=$!
  printf '%s\n' "$pid" >"$pidfile"
  # "Server is ready" in this run's part of the log proves that the port is
  # ours (another process could answer on it too).
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    if tail -c "+$offset" "$logfile" | grep -q 'Server is ready' && port_open "$port"; then
      return 0
    fi
    sleep 0.1
  done
  echo "nats-server did not become ready on port $port" >>"$logfile"
  nats_stop "$pidfile"
  return 1
}

# start_on_port NAME LOGFILE PORT FUNC ARGS...: call FUNC ARGS... to start a
# server on the fixed PORT. A bind failure while nothing listens on PORT
# (a closing connection still holds it, e.g. in TIME-WAIT) is retried for up
# to 70s. Dies with the log tail on failure.
start_on_port() {
  local name="$1" logfile="$2" port="$3" func="$4" i
  shift 4
  for ((i = 0; i < 35; i++)); do
    if "$func" "$@"; then
      return 0
    fi
    if port_in_use "$port" || ! tail -n 20 "$logfile" 2>/dev/null | grep -qi 'already in use'; then
      break
    fi
    ((i > 0)) || log "$name: port $port is held by a closing connection; waiting up to 70s"
    sleep 2
  done
  die "$name failed to start on port $port" "$logfile"
}

# start_with_retry NAME LOGFILE PORTVAR FUNC ARGS...: call FUNC ARGS... with
# the token PORT in ARGS replaced by a free port, up to 3 times while the
# failure looks like a port clash. Stores the port in the variable PORTVAR.
start_with_retry() {
  local _swr_name="$1" _swr_log="$2" _swr_var="$3" _swr_func="$4"
  local _swr_try _swr_port _swr_arg
  shift 4
  local _swr_args=()
  for _swr_try in 1 2 3; do
    find_free_port _swr_port
    _swr_args=()
    for _swr_arg in "$@"; do
      if [[ "$_swr_arg" == PORT ]]; then _swr_args+=("$_swr_port"); else _swr_args+=("$_swr_arg"); fi
    done
    if "$_swr_func" "${_swr_args[@]}"; then
      printf -v "$_swr_var" '%s' "$_swr_port"
      return 0
    fi
    if ((_swr_try < 3)) && tail -n 20 "$_swr_log" 2>/dev/null | grep -qi 'already in use'; then
      log "$_swr_name: port $_swr_port taken; retrying"
      continue
    fi
    break
  done
  die "$_swr_name failed to start on port $_swr_port" "$_swr_log"
}

# nats_running PIDFILE: true if the PID in PIDFILE is a live nats-server
# (checked by name, so that a stale PID file never hits another process).
nats_running() {
  local pid comm bin
  [[ -f "$1" ]] || return 1
  pid="$(head -n1 "$1" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  comm="$(ps -p "$pid" -o comm= 2>/dev/null || true)"
  [[ -n "$comm" ]] || return 1
  bin="$(basename "$(nats_bin)")"
  [[ "$comm" == nats-server || "$comm" == setsid || "$comm" == "${bin:0:15}" ]]
}

# nats_stop PIDFILE: stop the nats-server whose PID is in PIDFILE (if it is
# still a nats-server), waiting up to 10s before SIGKILL.
nats_stop() {
  local pidfile="$1" pid i
  if ! nats_running "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid="$(head -n1 "$pidfile")"
  rm -f "$pidfile"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Reap it if it is our child; ignore "not a child" errors.
  wait "$pid" 2>/dev/null || true
}
