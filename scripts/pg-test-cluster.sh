#!/usr/bin/env bash
# A temporary PostgreSQL cluster for the test suite (issue 10): started as an unprivileged user,
# listening on loopback on a free port, trust authentication for local connections only.
#   scripts/pg-test-cluster.sh start DIR   -> initdb + start in DIR, prints the server URL
#   scripts/pg-test-cluster.sh stop DIR    -> stop the cluster and remove DIR
# The URL (postgresql+psycopg://USER@127.0.0.1:PORT/postgres) is also written to DIR/url.
# Runs as the current user when that is not root; as root (CI) the cluster belongs to the system
# user carbonpeak-pg (created if missing) and is run with runuser.
set -euo pipefail
cmd=${1:?usage: pg-test-cluster.sh start|stop DIR}
dir=${2:?usage: pg-test-cluster.sh start|stop DIR}

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$d/initdb" ]; then bindir=$d; break; fi
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then bindir=$(dirname "$(command -v initdb)"); fi
if [ -z "$bindir" ]; then echo "pg-test-cluster: PostgreSQL not installed (run scripts/system-deps.sh)" >&2; exit 1; fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u carbonpeak-pg -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ "$(id -u)" -eq 0 ] && ! id carbonpeak-pg >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin carbonpeak-pg
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown carbonpeak-pg "$dir"; chmod 700 "$dir"; fi
  user=$( [ "$(id -u)" -eq 0 ] && echo carbonpeak-pg || id -un )
  as_owner "$bindir/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || as_owner "$bindir/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # a throw-away cluster: durability off, enough connections for 2 test workers and the services
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c timezone=UTC" >/dev/null
  url="postgresql+psycopg://$user@127.0.0.1:$port/postgres"
  echo "$url" >"$dir/url"
  echo "$url"
  ;;
stop)
  if [ -d "$dir/data" ]; then as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  ;;
*) echo "usage: pg-test-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
