# Shared by the Citus benchmarks (citus.sh, citus_backlog.sh): servers on
# loopback with Citus preloaded, and a cluster of a coordinator and two
# workers.  Sourced after lib.sh.

# Whether Citus is installed (Debian does not package it: docs/citus.md)
citus_installed() {
	[[ -e "$("$PG_BINDIR/pg_config" --pkglibdir)/citus.so" ]]
}

# citus_start_server DIR NAME PORT PRELOAD [postgresql.conf line]...
# Creates and starts the server DIR/nNAME; the extra lines win.
citus_start_server() {
	local dir=$1 name=$2 port=$3 preload=$4 line
	shift 4
	as_postgres initdb -A trust -D "$dir/n$name" >/dev/null
	{
		echo "port = $port"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$dir'"
		echo "shared_preload_libraries = '$preload'"
		echo "max_prepared_transactions = 50"
		echo "shared_buffers = 256MB"
		echo "log_min_messages = warning"
		for line in "$@"; do echo "$line"; done
	} >>"$dir/n$name/postgresql.conf"
	as_postgres pg_ctl -D "$dir/n$name" -l "$dir/n$name.log" -w start >/dev/null
}

# citus_stop_servers DIR: stops every server under DIR, then removes it
citus_stop_servers() {
	local dir=$1 data
	for data in "$dir"/n*/; do
		[[ -f $data/PG_VERSION ]] && as_postgres pg_ctl -D "$data" -m immediate -w stop >/dev/null 2>&1
	done
	rm -rf "$dir"
}

# citus_q PORT [psql args]...: psql on a server of ours, tuples only
citus_q() {
	local port=$1
	shift
	as_postgres psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -d postgres "$@"
}

# citus_cluster DIR BASEPORT [postgresql.conf line]...
# Starts nodes 0 (coordinator), 1 and 2 with Citus and pg_incremental
# preloaded, creates Citus on each and adds the workers; sets CITUS_PORTS.
citus_cluster() {
	local dir=$1 base=$2 n port
	shift 2
	CITUS_PORTS=()
	for n in 0 1 2; do
		port=$(bench_free_port $((base + 10 * n)))
		CITUS_PORTS+=("$port")
		citus_start_server "$dir" "$n" "$port" 'citus,pg_incremental' "$@"
		citus_q "$port" -c 'CREATE EXTENSION citus'
	done
	citus_q "${CITUS_PORTS[0]}" -c "SELECT citus_set_coordinator_host('127.0.0.1', ${CITUS_PORTS[0]})" >/dev/null
	citus_q "${CITUS_PORTS[0]}" -c "SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[1]})" >/dev/null
	citus_q "${CITUS_PORTS[0]}" -c "SELECT citus_add_node('127.0.0.1', ${CITUS_PORTS[2]})" >/dev/null
}
