# shellcheck shell=bash
# Sourced by bench/pg_run and bench/pg_listen: a throwaway PostgreSQL 15 cluster in a temporary directory, run as
# user nobody when the bench runs as root (initdb refuses root), socket only (the directory holds it), with fsync and
# synchronous_commit on: durable commits, as in production. $OOS_PG_BINDIR names another PostgreSQL, as for the tests.
pg_bin=${OOS_PG_BINDIR:-/usr/lib/postgresql/15/bin}
cluster=""

as_server() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }

# start_cluster NAME: initdb and start in /tmp/NAME.XXXXXX; sets $cluster to that directory.
start_cluster() {
  cluster=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$cluster"
  if [ "$(id -u)" = 0 ]; then chown nobody "$cluster"; fi
  as_server "$pg_bin/initdb" -D "$cluster/data" -U postgres -A trust -N --no-instructions -E UTF8 --locale=C >/dev/null
  as_server "$pg_bin/pg_ctl" -D "$cluster/data" -l "$cluster/log" -w -o "-c listen_addresses='' \
-c unix_socket_directories=$cluster -c fsync=on -c synchronous_commit=on -c max_connections=100" start >/dev/null
}

# stop_cluster: stops the server and removes its directory (for an EXIT trap: never fails).
stop_cluster() {
  [ -n "$cluster" ] || return 0
  as_server "$pg_bin/pg_ctl" -D "$cluster/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$cluster"
}
