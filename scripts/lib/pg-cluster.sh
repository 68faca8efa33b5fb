#!/usr/bin/env bash
# A private PostgreSQL cluster from Debian's packages, for tests, benchmarks and `just dev-fleet`:
# its own directory, its own port on 127.0.0.1 and its Unix socket in that directory.
#   pg-cluster.sh start DIR [PORT]   initdb (first time) and start; prints the port
#   pg-cluster.sh stop DIR           fast shutdown (what is committed stays)
#   pg-cluster.sh restart DIR        start again on the port it had
# The superuser is `postgres`: trusted on the socket, password (scram-sha-256) over TCP, the
# password in DIR/password. As root, the server runs as the `postgres` user (initdb refuses root).
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $bin/initdb ]] || { echo "pg-cluster: PostgreSQL is not installed (scripts/bootstrap.sh installs it)" >&2; exit 1; }

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {
  local dir=$1 port=${2:-}
  mkdir -p "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/password")
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir/password"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --pwfile="$dir/password" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  [[ -n $port ]] || port=$(cat "$dir/port" 2>/dev/null || free_port)
  echo "$port" >"$dir/port"
  # Room for three replicas' and four hosts' pools; fsync stays on (what is committed survives).
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c max_connections=300 -c shared_buffers=128MB" \
    >/dev/null
  echo "$port"
}

stop() {
  local dir=$1
  [[ -f $dir/data/postmaster.pid ]] || return 0
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

case ${1:-} in
  start) start "$2" "${3:-}" ;;
  stop) stop "$2" ;;
  restart) start "$2" "$(cat "$2/port")" ;;
  *) echo "usage: pg-cluster.sh start|stop|restart DIR [PORT]" >&2; exit 2 ;;
esac
