#!/usr/bin/env bash
# Builds pg_incremental with PGXS against PostgreSQL 15 and installs it into
# that server's directories (needs root, or write access to them).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
pg_bindir="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
pg_config="$pg_bindir/pg_config"
export PATH="$pg_bindir:$PATH"

if [[ ! -x "$pg_config" ]]; then
	echo "build: $pg_config not found; run scripts/install-deps.sh first" >&2
	exit 1
fi

jobs="$(nproc 2>/dev/null || echo 2)"

echo "build: make (PostgreSQL $("$pg_config" --version | awk '{print $2}'), $jobs jobs)"
if ! make -C "$repo" -j"$jobs" PG_CONFIG="$pg_config"; then
	echo "build: FAILED: make did not succeed (see the compiler output above)" >&2
	exit 1
fi

echo "build: make install into $("$pg_config" --pkglibdir)"
if ! make -C "$repo" install PG_CONFIG="$pg_config"; then
	echo "build: FAILED: make install did not succeed (are you root?)" >&2
	exit 1
fi
echo "build: done"
