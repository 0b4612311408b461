# shellcheck shell=bash
# Sourced by the bench/*.sh scripts (not run on its own).
#
# Every benchmark either starts its own throwaway PostgreSQL 15 server with
# pg_incremental preloaded, listening on 127.0.0.1 only (and on a Unix socket
# in its own directory), or, given --dsn 'connection string', runs the same
# SQL-API workload against an existing server (for instance pg_incremental 1.3
# driven by pg_cron).  In --dsn mode nothing is measured that needs the
# server's processes (/proc CPU and memory, restarts): those figures read n/a.
#
# Each benchmark prints lines "RESULT<TAB>figure<TAB>measured<TAB>target<TAB>
# original<TAB>verdict" (bench_result); run.sh collects them into the summary
# table.  Benchmarks never fail a test run: they report.  A script exits 0
# even when a measurement could not be taken, after printing why.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BENCH_ROOT="$(cd "$BENCH_DIR/.." && pwd -P)"
# shellcheck source=scripts/tmp-server.sh
source "$BENCH_ROOT/scripts/tmp-server.sh"

PGBENCH="$PG_BINDIR/pgbench"
BENCH_QUICK=false
BENCH_DSN=""        # empty: own throwaway server
BENCH_CONN=""       # what psql and pgbench connect with
BENCH_OWN=false     # true when we started the server ourselves
BENCH_TMP=""
BENCH_CLK_TCK=$(getconf CLK_TCK)

# Parses the options every script shares: --quick, --dsn CONNSTR.
# Sets BENCH_ARGS to the remaining arguments.
bench_parse_args() {
	BENCH_ARGS=()
	while [[ $# -gt 0 ]]; do
		case "$1" in
			--quick) BENCH_QUICK=true ;;
			--dsn) BENCH_DSN="$2"; shift ;;
			--dsn=*) BENCH_DSN="${1#--dsn=}" ;;
			-h | --help)
				sed -n '2,/^set -/{/^set -/d;s/^# \{0,1\}//p}' "$0"
				exit 0 ;;
			*) BENCH_ARGS+=("$1") ;;
		esac
		shift
	done
}

bench_quick() { [[ $BENCH_QUICK == true ]]; }
bench_own() { [[ $BENCH_OWN == true ]]; }

# A TCP port on 127.0.0.1 that nothing listens on.
bench_free_port() {
	local port
	for ((port = $1; port < $1 + 200; port++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
			[[ ! -e "/tmp/.s.PGSQL.$port" ]]; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# bench_server NAME [postgresql.conf line]...
# Starts the throwaway server (or, with --dsn, just checks the connection).
# The extra lines come after the defaults below, so they win.
bench_server() {
	local name="$1"
	shift
	if [[ -n $BENCH_DSN ]]; then
		BENCH_CONN="$BENCH_DSN"
		BENCH_OWN=false
		bench_psql -c "SELECT 1" >/dev/null || {
			echo "$name: cannot connect to $BENCH_DSN" >&2
			return 1
		}
		return 0
	fi
	local port
	port=$(bench_free_port 55700) || { echo "$name: no free port" >&2; return 1; }
	BENCH_TMP=$(make_postgres_tmpdir "pg_incremental-bench-$name") || return 1
	trap 'bench_cleanup' EXIT
	tmp_server_init "$BENCH_TMP" "$port" \
		"listen_addresses = '127.0.0.1'" \
		"shared_preload_libraries = 'pg_incremental,pg_stat_statements'" \
		"shared_buffers = 256MB" \
		"max_wal_size = 4GB" \
		"checkpoint_timeout = 30min" \
		"max_connections = 100" \
		"track_commit_timestamp = on" \
		"jit = off" \
		"log_min_messages = warning" \
		"$@" || return 1
	tmp_server_start || return 1
	BENCH_OWN=true
	BENCH_CONN="host=127.0.0.1 port=$port user=postgres dbname=postgres"
}

bench_cleanup() {
	if bench_own; then
		tmp_server_stop
		[[ -n $BENCH_TMP ]] && rm -rf "$BENCH_TMP"
	fi
	BENCH_OWN=false
}

bench_restart() {
	bench_own || return 1
	as_postgres pg_ctl -D "$TS_DATA" -m fast -w -t 120 restart -l "$TS_LOG" >/dev/null
}

# Connection string for another database of the same server.
bench_conn_db() {
	echo "$BENCH_CONN dbname=$1"
}

# psql against the benchmark server; -d CONNSTR may be given as the first
# two arguments to pick another database.
bench_psql() {
	local conn="$BENCH_CONN"
	if [[ ${1:-} == -d ]]; then
		conn="$2"
		shift 2
	fi
	as_postgres psql -X -q -v ON_ERROR_STOP=1 "$@" -d "$conn"
}

bench_value() {
	if [[ ${1:-} == -d ]]; then
		bench_psql -d "$2" -At "${@:3}"
	else
		bench_psql -At "$@"
	fi
}

bench_pgbench() {
	as_postgres "$PGBENCH" "$@" "$BENCH_CONN"
}

# Writes stdin to a file the postgres user can read and prints its path.
bench_file() {
	local f
	f=$(mktemp "/tmp/pg_incremental-bench.XXXXXX")
	cat >"$f"
	chmod 644 "$f"
	echo "$f"
}

# Clock ticks (utime + stime) used so far by the scheduler's processes of the
# own server: launcher and workers.  Prints nothing in --dsn mode.
bench_scheduler_pids() {
	bench_value -c "SELECT pid FROM pg_stat_activity
		WHERE backend_type IN ('pg_incremental launcher', 'pg_incremental worker')"
}

bench_ticks() {
	local pid total=0 f
	for pid in "$@"; do
		f="/proc/$pid/stat"
		[[ -r $f ]] || continue
		# fields 14 and 15 after the ")" that ends the command name
		total=$((total + $(sed 's/.*) //' "$f" | awk '{print $12 + $13}')))
	done
	echo "$total"
}

# Percentage of one core: bench_cpu_pct TICKS SECONDS
bench_cpu_pct() {
	awk -v t="$1" -v s="$2" -v hz="$BENCH_CLK_TCK" 'BEGIN { printf "%.2f", 100 * t / hz / s }'
}

# CPU meter over an interval: bench_cpu_start PID...; ...; bench_cpu_stop
# prints the % of one core the processes used in between.  perf stat's
# task-clock (exact) when perf can attach to them, else the clock ticks of
# /proc/<pid>/stat, which are only sampled every 10 ms and undercount
# processes that wake briefly (an idle scheduler).  Prints n/a without pids.
BENCH_CPU_PIDS=()
BENCH_CPU_PERF=""
BENCH_CPU_OUT=""
bench_cpu_start() {
	BENCH_CPU_PIDS=("$@")
	BENCH_CPU_PERF=""
	BENCH_CPU_T0=$(bench_ticks "$@")
	BENCH_CPU_S0=$(now_s)
	(($#)) || return 0
	if command -v perf >/dev/null 2>&1; then
		BENCH_CPU_OUT=$(mktemp /tmp/pg_incremental-bench-cpu.XXXXXX)
		perf stat -e task-clock -x, -o "$BENCH_CPU_OUT" -p "$(IFS=,; echo "$*")" >/dev/null 2>&1 &
		BENCH_CPU_PERF=$!
		sleep 0.2
		kill -0 "$BENCH_CPU_PERF" 2>/dev/null || BENCH_CPU_PERF=""
	fi
}
bench_cpu_stop() {
	local secs ms="" t1
	secs=$(elapsed "$BENCH_CPU_S0")
	t1=$(bench_ticks "${BENCH_CPU_PIDS[@]+"${BENCH_CPU_PIDS[@]}"}")
	if ((${#BENCH_CPU_PIDS[@]} == 0)); then
		echo n/a
		return 0
	fi
	if [[ -n $BENCH_CPU_PERF ]]; then
		kill -INT "$BENCH_CPU_PERF" 2>/dev/null || true
		wait "$BENCH_CPU_PERF" 2>/dev/null || true
		ms=$(awk -F, '$3 == "task-clock" { print $1 }' "$BENCH_CPU_OUT")
		rm -f "$BENCH_CPU_OUT"
	fi
	if [[ $ms =~ ^[0-9.]+$ ]]; then
		# perf started 0.2 s after the clock did: measure over its own span
		secs=$(awk -v s="$secs" 'BEGIN { print (s > 0.3 ? s - 0.2 : s) }')
		awk -v ms="$ms" -v s="$secs" 'BEGIN { printf "%.2f", ms / 10 / s }'
	else
		bench_cpu_pct $((t1 - BENCH_CPU_T0)) "$secs"
	fi
}

# Median of the numbers on stdin, one per line.
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }'; }

# bench_result FIGURE MEASURED TARGET ORIGINAL VERDICT
bench_result() {
	printf 'RESULT\t%s\t%s\t%s\t%s\t%s\n' "$@"
}

# Verdict of a "lower is better" comparison: bench_le VALUE LIMIT
bench_le() {
	awk -v v="$1" -v l="$2" 'BEGIN {
		if (v == "" || v == "n/a") print "n/a"; else if (v + 0 <= l + 0) print "met"; else print "MISSED" }'
}

bench_ge() {
	awk -v v="$1" -v l="$2" 'BEGIN {
		if (v == "" || v == "n/a") print "n/a"; else if (v + 0 >= l + 0) print "met"; else print "MISSED" }'
}

# Both verdicts must be "met".
bench_and() {
	local v
	for v in "$@"; do
		[[ $v == met ]] || { [[ $v == n/a ]] && echo n/a || echo MISSED; return; }
	done
	echo met
}

bench_load() {
	awk '{print $1}' /proc/loadavg
}

bench_header() {
	echo "== $1 ($(date -u '+%Y-%m-%d %H:%M:%S UTC'), load $(bench_load)$(bench_quick && echo ', --quick'))"
}
