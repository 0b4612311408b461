# shellcheck shell=bash
# Sourced by demo.sh and test.sh (not run on its own).
#
# A throwaway PostgreSQL 15 server: initdb'd into a fresh directory, run by
# the postgres OS user (initdb refuses root), reachable only through a Unix
# socket in that same directory (listen_addresses = ''), so it never clashes
# with a server already running on the machine, whatever port it uses.
#
# Usage:
#   tmp_server_init DIR PORT [postgresql.conf line]...
#   tmp_server_start            # returns non-zero and shows the log on failure
#   tmp_server_psql [psql args]...
#   tmp_server_stop             # safe to call when the server is not running
#
# Functions use explicit "|| return 1" because callers use them in "if", where
# set -e does not apply.

PG_BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"

TS_DIR=""    # directory holding the data directory, socket and log
TS_PORT=""
TS_DATA=""
TS_LOG=""

# Makes a fresh directory under /tmp (not $TMPDIR: the postgres user must be
# able to reach it) owned by whoever runs the servers, and prints its path.
make_postgres_tmpdir() {
	local dir
	dir="$(mktemp -d "/tmp/$1.XXXXXX")" || return 1
	if [[ $EUID -eq 0 ]]; then
		chown postgres:postgres "$dir" || return 1
	fi
	printf '%s\n' "$dir"
}

# Runs a command as the postgres OS user (when we are root; as ourselves
# otherwise) with a small, predictable environment: nothing from the caller's
# PG*, LC_* or TZ variables leaks into the tests.  Extra VAR=value words may
# precede the command.
as_postgres() {
	local -a envs=(
		"HOME=${TS_HOME:-/tmp}"
		"PATH=$PG_BINDIR:/usr/local/bin:/usr/bin:/bin"
		"LANG=C.UTF-8"
	)
	if [[ $EUID -eq 0 ]]; then
		runuser -u postgres -- env -i "${envs[@]}" "$@"
	else
		env -i "${envs[@]}" "$@"
	fi
}

tmp_server_init() {
	TS_DIR="$1"
	TS_PORT="$2"
	shift 2
	TS_DATA="$TS_DIR/data"
	TS_LOG="$TS_DIR/server.log"

	if ! as_postgres initdb -D "$TS_DATA" -U postgres -A trust -E UTF8 \
		--locale=C.UTF-8 -N >"$TS_DIR/initdb.log" 2>&1; then
		echo "initdb failed:" >&2
		cat "$TS_DIR/initdb.log" >&2
		return 1
	fi

	{
		echo ""
		echo "# throwaway server (scripts/tmp-server.sh)"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$TS_DIR'"
		echo "port = $TS_PORT"
		echo "shared_preload_libraries = 'pg_incremental'"
		echo "log_line_prefix = '%m [%p] %q%b %a: '"
		local line
		for line in "$@"; do
			echo "$line"
		done
	} >>"$TS_DATA/postgresql.conf" || return 1
}

# Appends a line to postgresql.conf, or removes the lines matching a
# parameter name (tmp_server_conf_remove NAME).
tmp_server_conf_add() {
	echo "$1" >>"$TS_DATA/postgresql.conf"
}

tmp_server_conf_remove() {
	sed -i "/^[[:space:]]*${1//./\\.}[[:space:]]*=/d" "$TS_DATA/postgresql.conf"
}

tmp_server_start() {
	if ! as_postgres pg_ctl -D "$TS_DATA" -l "$TS_LOG" -w -t 60 start >/dev/null; then
		echo "could not start the server; last lines of $TS_LOG:" >&2
		tail -n 30 "$TS_LOG" >&2 || true
		return 1
	fi
}

tmp_server_is_running() {
	[[ -n "$TS_DATA" && -f "$TS_DATA/postmaster.pid" ]]
}

tmp_server_stop() {
	tmp_server_is_running || return 0
	as_postgres pg_ctl -D "$TS_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 ||
		as_postgres pg_ctl -D "$TS_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
		echo "warning: could not stop the server in $TS_DATA" >&2
}

tmp_server_psql() {
	as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$TS_DIR" -p "$TS_PORT" -U postgres "$@"
}

# Prints one value: tmp_server_value DB QUERY
tmp_server_value() {
	tmp_server_psql -d "$1" -At -c "$2"
}
