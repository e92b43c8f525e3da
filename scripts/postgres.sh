#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL server for tests, from the machine's own binaries.
#
#   scripts/postgres.sh start [DIR]   prints a connection URL (and nothing else) on stdout
#   scripts/postgres.sh stop DIR      stops the server and deletes DIR
#   scripts/postgres.sh pause DIR     stops the server (immediate mode, as a crash), keeping DIR
#   scripts/postgres.sh resume DIR    starts a paused server again, on the same port
#
# The server lives entirely in DIR (a new temporary directory when DIR is not given; DIR must
# not exist or be empty): data, Unix socket and log. As root, when the `postgres` user cannot
# enter DIR (a checkout under /root or under a `mktemp -d` directory), the server lives in a new
# directory under /tmp instead, and DIR only records where (file `server-dir`). It listens on 127.0.0.1 only, on a random
# free port, with a random password for its one superuser, and runs with fsync off — it is for
# tests, never for data anyone wants to keep. Commits stay synchronous: an acknowledged commit has
# reached the operating system, so `pause` (a crash of PostgreSQL, not of the machine) loses
# nothing the server was told is written — with synchronous_commit off it would, and the
# crash tests would blame the server for PostgreSQL's lost commits.
#
# Binaries: $K8S_ATTEST_POSTGRES_BIN when set, else the newest /usr/lib/postgresql/<version>/bin
# (Debian's layout), else initdb/pg_ctl on PATH. initdb refuses to run as root, so as root the
# server runs as the `postgres` system user (created by Debian's postgresql package).
set -euo pipefail

readonly SUPERUSER=k8s_attest
readonly START_ATTEMPTS=10

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

find_bin_dir() {
  if [ -n "${K8S_ATTEST_POSTGRES_BIN:-}" ]; then
    [ -x "$K8S_ATTEST_POSTGRES_BIN/initdb" ] ||
      die "K8S_ATTEST_POSTGRES_BIN=$K8S_ATTEST_POSTGRES_BIN does not contain an executable initdb"
    echo "$K8S_ATTEST_POSTGRES_BIN"
    return
  fi
  local newest
  # `sort -V` orders 9.6 < 15 < 16, which a plain sort does not.
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then
    echo "$newest"
    return
  fi
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"
    return
  fi
  echo "postgres.sh: no PostgreSQL server binaries found (looked at \$K8S_ATTEST_POSTGRES_BIN," \
    "/usr/lib/postgresql/*/bin and PATH). Install them (Debian: apt-get install postgresql)," \
    "point K8S_ATTEST_POSTGRES_BIN at a directory holding initdb and pg_ctl, or run the tests" \
    "against an existing server with K8S_ATTEST_TEST_POSTGRES_URL=postgres://user:password@host:port/db" >&2
  exit 2
}

# Runs a command as the user that owns the server: ourselves, or `postgres` when we are root.
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then
    # From /: the caller's working directory may be one the postgres user cannot enter.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

random_hex() {
  od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

start() {
  local dir="${1:-}"
  local bin_dir
  bin_dir="$(find_bin_dir)"

  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    die "running as root, and initdb refuses root; create a 'postgres' user or run as another user"
  fi
  if [ -z "$dir" ]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/k8s-attest-postgres.XXXXXX")"
  else
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  fi
  dir="$(cd "$dir" && pwd)"
  local given="$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir" 2>/dev/null; then
      local elsewhere
      elsewhere="$(mktemp -d /tmp/k8s-attest-postgres.XXXXXX)"
      echo "$elsewhere" >"$dir/server-dir"
      echo "postgres.sh: user postgres cannot enter $dir; the server lives in $elsewhere" >&2
      dir="$elsewhere"
      chown postgres: "$dir"
    fi
  fi
  chmod 700 "$dir"

  local password
  password="$(random_hex 16)"
  # The password file is read once by initdb and removed; the URL printed below carries it.
  as_server_user bash -c "umask 077 && printf '%s\n' '$password' > '$dir/pwfile'"
  as_server_user "$bin_dir/initdb" --pgdata="$dir/data" --username="$SUPERUSER" --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || die "initdb failed; see $dir/initdb.log"
  rm -f "$dir/pwfile"

  # A random port, retried when taken: PostgreSQL cannot listen on port 0 and report the port.
  local attempt port
  for attempt in $(seq 1 "$START_ATTEMPTS"); do
    port=$((20000 + RANDOM % 40000))
    if pg_start "$bin_dir" "$dir" "$port"; then
      echo "$port" >"$dir/port"
      echo "postgres.sh: PostgreSQL running in $dir; stop it with: $0 stop $given" >&2
      echo "postgres://$SUPERUSER:$password@127.0.0.1:$port/postgres"
      return
    fi
    grep -q 'could not bind\|Address already in use' "$dir/postgres.log" ||
      die "PostgreSQL did not start (attempt $attempt); see $dir/postgres.log"
  done
  die "no free port found in $START_ATTEMPTS attempts; see $dir/postgres.log"
}

# Starts the server in DIR on PORT (the same options on every start, so a resumed server is the same).
pg_start() {
  local bin_dir="$1" dir="$2" port="$3"
  as_server_user "$bin_dir/pg_ctl" --pgdata="$dir/data" --log="$dir/postgres.log" --wait --timeout=60 \
    --options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' \
      -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >"$dir/pg_ctl.log" 2>&1
}

pause() {
  local dir="${1:-}"
  [ -n "$dir" ] || die "usage: $0 pause DIR"
  [ -f "$dir/data/postmaster.pid" ] || die "$dir holds no running server started by this script"
  as_server_user "$(find_bin_dir)/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait stop >/dev/null
}

resume() {
  local dir="${1:-}"
  [ -n "$dir" ] || die "usage: $0 resume DIR"
  [ -f "$dir/port" ] || die "$dir holds no server started by this script"
  pg_start "$(find_bin_dir)" "$dir" "$(cat "$dir/port")" || die "PostgreSQL did not resume; see $dir/postgres.log"
}

stop() {
  local dir="${1:-}"
  [ -n "$dir" ] || die "usage: $0 stop DIR"
  if [ -f "$dir/server-dir" ]; then
    local recorded="$dir"
    dir="$(cat "$recorded/server-dir")"
    stop "$dir"
    rm -rf "$recorded"
    return
  fi
  [ -d "$dir/data" ] || die "$dir holds no server started by this script"
  local bin_dir
  bin_dir="$(find_bin_dir)"
  # `immediate` skips the shutdown checkpoint: nothing in a throwaway server is worth flushing.
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server_user "$bin_dir/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait stop >/dev/null
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  pause) pause "${2:-}" ;;
  resume) resume "${2:-}" ;;
  *) die "usage: $0 start [DIR] | $0 stop DIR | $0 pause DIR | $0 resume DIR" ;;
esac
