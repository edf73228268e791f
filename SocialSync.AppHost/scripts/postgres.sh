#!/usr/bin/env bash
# Runs a local PostgreSQL for SocialSync without containers.
# usage: postgres.sh DATA_DIR PORT DATABASE   (env: POSTGRES_PASSWORD, POSTGRES_EXTRA_ARGS, POSTGRES_STANDBY_OF)
# initdb's the data folder once, starts postgres (as the postgres user when run as root, since postgres refuses
# root), creates DATABASE if missing, and stays in the foreground until SIGTERM. With POSTGRES_STANDBY_OF=PORT the
# folder is instead a streaming replica of the local server on that port (pg_basebackup -R), read-only until promoted.
set -euo pipefail
data_dir=$1 port=$2 database=$3
password=${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}

bin_dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bin_dir" ] || bin_dir=$(dirname "$(command -v initdb || command -v postgres || echo /nonexistent/x)")
if [ ! -x "$bin_dir/initdb" ] || [ ! -x "$bin_dir/postgres" ]; then
  echo "PostgreSQL server binaries not found: install them with 'apt-get install -y postgresql'" >&2
  exit 127
fi

as_owner=()
if [ "$(id -u)" = 0 ]; then
  as_owner=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi

mkdir -p "$data_dir"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$data_dir"
chmod 700 "$data_dir"
standby_of=${POSTGRES_STANDBY_OF:-}
if [ ! -s "$data_dir/PG_VERSION" ] && [ -n "$standby_of" ]; then
  # The primary's initdb trusts local (socket) connections, replication included; -R writes primary_conninfo and
  # standby.signal, -X stream copies the WAL written while the backup runs.
  "${as_owner[@]}" "$bin_dir/pg_basebackup" -h /tmp -p "$standby_of" -U postgres -D "$data_dir" -R -X stream -c fast
elif [ ! -s "$data_dir/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$password" > "$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
  "${as_owner[@]}" "$bin_dir/initdb" -D "$data_dir" -U postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
fi

# A postmaster killed with SIGKILL leaves its lock files behind; where nothing reaps orphans (a container's PID 1)
# its pid stays a zombie, which postgres would take for a running server. Remove such stale locks.
for lock in "$data_dir/postmaster.pid" "/tmp/.s.PGSQL.$port.lock"; do
  [ -f "$lock" ] || continue
  old_pid=$(head -n 1 "$lock" | tr -d ' -')
  if [ ! -d "/proc/$old_pid" ] || grep -q '^State:[[:space:]]*Z' "/proc/$old_pid/status" 2>/dev/null \
     || ! grep -q postgres "/proc/$old_pid/comm" 2>/dev/null; then
    rm -f "$lock"
  fi
done

# shellcheck disable=SC2086
"${as_owner[@]}" "$bin_dir/postgres" -D "$data_dir" -p "$port" -k /tmp \
  -c listen_addresses=localhost -c max_connections=300 ${POSTGRES_EXTRA_ARGS:-} 2>&1 &
pid=$!
# SIGINT is PostgreSQL's fast shutdown: it does not wait for clients' pooled connections to close.
trap 'kill -INT "$pid" 2>/dev/null; wait "$pid"; exit 0' TERM INT

until "$bin_dir/pg_isready" -q -h /tmp -p "$port"; do
  kill -0 "$pid" 2>/dev/null || { wait "$pid"; exit 1; }
  sleep 0.1
done
if [ -f "$data_dir/standby.signal" ]; then
  # A standby is read-only: its databases and password are the primary's.
  echo "postgres ready on port $port, standby of port $standby_of"
  wait "$pid"
  exit $?
fi
# The setup below commits locally: a primary that replicates synchronously would otherwise wait for a standby that
# may not be running yet.
export PGOPTIONS="-c synchronous_commit=local"
if ! "$bin_dir/psql" -h /tmp -p "$port" -U postgres -Atc "select 1 from pg_database where datname = '$database'" | grep -q 1; then
  "$bin_dir/createdb" -h /tmp -p "$port" -U postgres "$database"
fi
# The password is the AppHost's parameter, not the data folder's: set it on every start, so a data folder made with an
# earlier password (or before the AppHost generated one) follows the parameter. Local socket connections are trusted.
printf "alter role postgres with password :'password';\n" | "$bin_dir/psql" -q -h /tmp -p "$port" -U postgres -v password="$password" >/dev/null
echo "postgres ready on port $port, database $database"
wait "$pid"
