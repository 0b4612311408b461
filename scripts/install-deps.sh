#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build pg_incremental, run the demo
# and run the whole test suite.  Idempotent: when every package is already
# installed it does not touch apt at all, so repeated runs take a moment.
set -euo pipefail

packages=(
	postgresql-15              # server, initdb, pg_ctl, pgbench
	postgresql-client-15       # psql
	postgresql-server-dev-15   # pg_config, PGXS, pg_regress, pg_isolation_regress
	postgresql-15-cron         # pg_cron, for the compatibility tests
	postgresql-15-hll          # hll: approximate count(DISTINCT) in continuous views
	postgresql-15-tdigest      # tdigest: percentiles in continuous views
	postgresql-15-partman      # pg_partman: streams' retention on tables it partitions
	postgresql-plpython3-15    # PL/Python, whose GD the session isolation test uses
	build-essential            # gcc, make, libc headers
	make
	gcc
	perl                       # prove and Test::More for the TAP tests
	libipc-run-perl            # IPC::Run, required by PostgreSQL::Test::Cluster
	locales                    # C.UTF-8 for the throwaway clusters
	python3                    # the fuzz driver (test/fuzz/fuzz.py), standard library only
)

is_installed() {
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

missing=()
for pkg in "${packages[@]}"; do
	is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#packages[@]} packages already installed"
	exit 0
fi

if [[ $EUID -ne 0 ]]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run this script as root to install them" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update </dev/null
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null

still_missing=()
for pkg in "${missing[@]}"; do
	is_installed "$pkg" || still_missing+=("$pkg")
done
if ((${#still_missing[@]} > 0)); then
	echo "install-deps: apt-get did not install: ${still_missing[*]}" >&2
	exit 1
fi
echo "install-deps: done"
