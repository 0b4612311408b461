#!/usr/bin/env python3
"""Fuzz every SQL function of pg_incremental with random, boundary and
hostile arguments.

Connects with psql (PGHOST, PGPORT, PGDATABASE, PGUSER from the
environment), reads the signatures of every function and procedure in
schema incremental from pg_proc, and calls them --calls times with values
drawn from pools per argument type: NULLs, empty and huge strings, names
with quotes and semicolons, invalid intervals and schedules, relations of
every kind, commands with 0, 2 or many statements, $3, DDL, transaction
control, SET ROLE and recursive pipeline calls.  Most calls run in a
transaction that is rolled back; some commit, so later calls meet the
pipelines earlier ones created (and the scheduler runs them, if it is on).

It prints one line of figures and exits non-zero when the server lost the
connection (a backend crashed), when an error was not a clean ERROR, or
when the catalog is inconsistent afterwards.  The server log should be
checked for "terminated by signal" as well; test/tap/150_fuzz.pl does.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

SETUP = r"""
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS fuzz CASCADE;
CREATE SCHEMA fuzz;
CREATE TABLE fuzz.src (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), v text);
CREATE TABLE fuzz.nosequence (id bigint, v text);
CREATE TABLE fuzz.twosequences (a bigserial, b bigserial);
CREATE TABLE fuzz.parted (id bigserial, v text) PARTITION BY RANGE (id);
CREATE TABLE fuzz.parted_1 PARTITION OF fuzz.parted FOR VALUES FROM (1) TO (1000000);
CREATE VIEW fuzz.src_view AS SELECT * FROM fuzz.src;
CREATE MATERIALIZED VIEW fuzz.src_matview AS SELECT * FROM fuzz.src;
CREATE SEQUENCE fuzz.cached CACHE 10;
CREATE SEQUENCE fuzz.cycling CYCLE;
CREATE SEQUENCE fuzz.descending INCREMENT -1;
CREATE SEQUENCE fuzz.unowned;
CREATE INDEX src_v ON fuzz.src (v);
CREATE TYPE fuzz.composite AS (a int);
CREATE TABLE fuzz.sink (v text);
CREATE FUNCTION fuzz.list(pattern text) RETURNS TABLE (path text) LANGUAGE sql
  AS $$ SELECT 'file-' || g FROM generate_series(1, 3) g $$;
CREATE FUNCTION fuzz.list_wrong(pattern text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION fuzz.list_error(pattern text) RETURNS TABLE (path text) LANGUAGE plpgsql
  AS $$ BEGIN RAISE EXCEPTION 'list failed'; END $$;
CREATE FUNCTION fuzz.list_nulls(pattern text) RETURNS TABLE (path text) LANGUAGE sql
  AS $$ VALUES (NULL::text), ('a'), ('a'), (repeat('x', 10000)) $$;
INSERT INTO fuzz.src (v) SELECT g::text FROM generate_series(1, 100) g;
"""

NAMES = ["'p1'", "'p2'", "'fuzz pipeline'", "''", "' '", "'p''q'", "'p;q'",
         "'x''); DROP TABLE fuzz.src; --'", "'\"quoted\"'", "'ünïcødé'",
         "repeat('n', 64)", "repeat('n', 100000)", "'p1 '", "'P1'", "E'p\\n1'",
         "NULL"]

COMMANDS = [
    "''", "' '", "';'", "';;'", "'--'", "'/* */'", "NULL",
    "'SELECT 1'", "'SELECT $1, $2'", "'SELECT $1'", "'SELECT $3'", "'SELECT $0'",
    "'SELECT $1; SELECT $2'", "'SELECT 1; SELECT 2; SELECT 3; SELECT 4'",
    "'INSERT INTO fuzz.sink SELECT v FROM fuzz.src WHERE id BETWEEN $1 AND $2'",
    "'INSERT INTO fuzz.sink SELECT $1::text'",
    "'INSERT INTO fuzz.sink SELECT unnest($1::text[])'",
    "'INSERT INTO fuzz.sink SELECT $1 || $2'",
    "'SELECT $1 + $2'", "'SELECT $1::int'", "'SELECT $2 - $1'",
    "'BEGIN'", "'COMMIT'", "'ROLLBACK'", "'SAVEPOINT s'", "'PREPARE TRANSACTION ''x'''",
    "'START TRANSACTION; SELECT 1; COMMIT'",
    "'VACUUM fuzz.src'", "'CREATE INDEX CONCURRENTLY ON fuzz.src (at)'",
    "'DROP TABLE fuzz.sink'", "'TRUNCATE fuzz.src'", "'ALTER TABLE fuzz.src ADD COLUMN z int'",
    "'CREATE TABLE fuzz.made_by_command (x int)'",
    "'DROP EXTENSION pg_incremental'", "'DROP SCHEMA incremental CASCADE'",
    "'SET ROLE postgres'", "'SET SESSION AUTHORIZATION postgres'", "'RESET ROLE'",
    "'SET search_path = pg_temp'", "'SET statement_timeout = 1'",
    "'CREATE TEMP TABLE t (x int)'", "'LISTEN x'", "'NOTIFY x'", "'DISCARD ALL'",
    "'CALL incremental.execute_pipeline(''p1'')'",
    "'SELECT incremental.drop_pipeline(''p1'')'",
    "'SELECT incremental.reset_pipeline(''p2'')'",
    "'UPDATE incremental.pipelines SET owner_id = 10'",
    "'DO $x$ BEGIN PERFORM 1; END $x$'", "'COPY fuzz.sink FROM PROGRAM ''true'''",
    "'SELECT pg_sleep(0.01)'", "'SELECT 1/0'", "'SELECT repeat(''x'', 1073741824)'",
    "'SELECT * FROM nonexistent'", "'SELEC 1'", "'SELECT ''unterminated'",
    "'EXPLAIN ANALYZE SELECT $1, $2'", "'VALUES ($1), ($2)'",
    "'WITH d AS (DELETE FROM fuzz.sink RETURNING *) SELECT $1, $2'",
    "repeat('SELECT 1 UNION ALL ', 5000) || 'SELECT 1'",
    "repeat('(', 10000) || 'SELECT 1' || repeat(')', 10000)",
    "'SELECT ' || repeat('$1 + ', 1000) || '$2'",
    "E'SELECT \\\\x00'", "'SELECT $1' || chr(0)",
]

SCHEDULES = [
    "NULL", "''", "' '", "'* * * * *'", "'*/5 * * * *'", "'1 second'", "'0 seconds'",
    "'-1 second'", "'1 microsecond'", "'100000 years'", "'@reboot'", "'@daily'",
    "'@hourly'", "'@never'", "'60 * * * *'", "'* * * * * *'", "'*/0 * * * *'",
    "'1-0 * * * *'", "'a b c d e'", "'* * 31 2 *'", "'0 0 29 2 *'",
    "'1 second; DROP TABLE fuzz.src'", "repeat('*', 100000)", "'2147483648 seconds'",
    "'1 mon'", "'P1D'", "'10 seconds'", "'$1'",
]

INTERVALS = ["NULL", "'0'", "'-1 day'", "'1 second'", "'1 microsecond'", "'1 day'",
             "'1 mon'", "'1 year'", "'1 mon -1 day'", "'-1 mon 40 days'",
             "'178000000 years'", "'1 hour'", "'00:00:00.000001'"]

RELATIONS = ["NULL", "'fuzz.src'", "'fuzz.nosequence'", "'fuzz.twosequences'",
             "'fuzz.parted'", "'fuzz.parted_1'", "'fuzz.src_view'", "'fuzz.src_matview'",
             "'fuzz.cached'", "'fuzz.cycling'", "'fuzz.descending'", "'fuzz.unowned'",
             "'fuzz.src_id_seq'", "'fuzz.src_v'", "'fuzz.composite'", "'pg_class'",
             "'incremental.pipelines'", "'pg_toast.pg_toast_1255'", "0", "1", "4294967295"]

TIMESTAMPS = ["NULL", "now()", "'infinity'", "'-infinity'", "'2000-01-01'", "'4713-01-01 BC'",
              "'294276-12-31'", "now() + '1 day'", "'epoch'"]

BIGINTS = ["NULL", "0", "1", "-1", "100", "9223372036854775807", "(-9223372036854775807 - 1)"]
INTS = ["NULL", "0", "1", "-1", "-2", "100", "2147483647", "(-2147483647 - 1)"]
BOOLS = ["NULL", "true", "false"]
TEXTS = NAMES + ["'/tmp/*'", "'/'", "'*'", "'s3://bucket/*'", "'relative/*'", "'/etc/passwd'",
                 "'/dev/zero'", "'[a-'", "'{a,b'",
                 "'fuzz.list'", "'fuzz.list_wrong'", "'fuzz.list_error'", "'fuzz.list_nulls'",
                 "'incremental.list_local_files'", "'pg_catalog.now'", "'fuzz.list(text)'",
                 "'nonexistent.f'", "'GMT'", "'Europe/Amsterdam'", "'+25'", "'junk/zone'"]

POOLS = {
    "text": TEXTS, "regclass": RELATIONS, "interval": INTERVALS,
    "timestamp with time zone": TIMESTAMPS, "bigint": BIGINTS, "integer": INTS,
    "boolean": BOOLS, "text[]": ["NULL", "'{}'", "'{a,NULL}'", "ARRAY[repeat('x', 10000)]"],
}

# the argument names of the create functions take pools of their own
BY_NAME = {"command": COMMANDS, "schedule": SCHEDULES, "pipeline_name": NAMES,
           "time_zone": TEXTS + ["'UTC'"], "list_function": TEXTS}


def psql(args, sql, timeout=None):
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=0"] + args,
                          input=sql, capture_output=True, text=True, timeout=timeout)


def signatures():
    out = psql(["-At", "-F", "\t"], r"""
SELECT p.proname, p.prokind, coalesce(array_to_string(p.proargnames, ','), ''),
       coalesce((SELECT string_agg(format_type(t, NULL), ',' ORDER BY o)
                 FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, o)), ''),
       p.pronargs, p.pronargdefaults
FROM pg_proc p WHERE p.pronamespace = 'incremental'::regnamespace ORDER BY 1, 4""")
    sigs = []
    for line in out.stdout.splitlines():
        name, kind, argnames, argtypes, nargs, ndefaults = line.split("\t")
        types = argtypes.split(",") if argtypes else []
        names = argnames.split(",")[:len(types)] if argnames else [""] * len(types)
        sigs.append((name, kind, names, types, int(ndefaults)))
    return sigs


def value(rng, argname, argtype):
    pool = BY_NAME.get(argname) or POOLS.get(argtype)
    v = rng.choice(pool) if pool else "NULL"
    return "%s::%s" % (v, argtype)


def call(rng, sig):
    name, kind, names, types, ndefaults = sig
    # sometimes leave out trailing defaulted arguments
    n = len(types) - (rng.randint(0, ndefaults) if ndefaults else 0)
    args = ", ".join(value(rng, names[i], types[i]) for i in range(n))
    verb = "CALL" if kind == "p" else "SELECT"
    return "%s incremental.%s(%s)" % (verb, name, args)


def consistency_sql():
    return r"""
SELECT 'kind row without pipeline' WHERE EXISTS (
  SELECT FROM incremental.sequence_pipelines s LEFT JOIN incremental.pipelines p USING (pipeline_name) WHERE p.pipeline_type IS DISTINCT FROM 's'
  UNION ALL SELECT FROM incremental.time_interval_pipelines s LEFT JOIN incremental.pipelines p USING (pipeline_name) WHERE p.pipeline_type IS DISTINCT FROM 't'
  UNION ALL SELECT FROM incremental.file_list_pipelines s LEFT JOIN incremental.pipelines p USING (pipeline_name) WHERE p.pipeline_type IS DISTINCT FROM 'f')
UNION ALL
SELECT 'pipeline without kind row: ' || pipeline_name FROM incremental.pipelines p
WHERE NOT EXISTS (SELECT FROM incremental.sequence_pipelines s WHERE s.pipeline_name = p.pipeline_name)
  AND NOT EXISTS (SELECT FROM incremental.time_interval_pipelines s WHERE s.pipeline_name = p.pipeline_name)
  AND NOT EXISTS (SELECT FROM incremental.file_list_pipelines s WHERE s.pipeline_name = p.pipeline_name)
UNION ALL
SELECT 'processed file of a non-file pipeline: ' || f.pipeline_name FROM incremental.processed_files f
WHERE NOT EXISTS (SELECT FROM incremental.file_list_pipelines l WHERE l.pipeline_name = f.pipeline_name)
UNION ALL
SELECT 'owner missing: ' || pipeline_name FROM incremental.pipelines WHERE NOT EXISTS (SELECT FROM pg_roles r WHERE r.oid = owner_id)
UNION ALL
SELECT 'empty name or command' FROM incremental.pipelines WHERE pipeline_name = '' OR command = '' OR command IS NULL
UNION ALL
SELECT 'unreadable schedule: ' || pipeline_name FROM incremental.pipelines
WHERE schedule IS NOT NULL AND schedule <> '@reboot' AND incremental.schedule_next_run(schedule) IS NULL
UNION ALL
SELECT 'sequence progress unset: ' || pipeline_name FROM incremental.sequence_pipelines WHERE last_processed_sequence_number IS NULL;
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--commit-ratio", type=float, default=0.3)
    ap.add_argument("--deep-globs", action="store_true",
                    help="also pass list_local_files patterns such as '/*/*/.../*' (200 levels); "
                    "known to hang the backend, see docs/reliability.md")
    opts = ap.parse_args()
    if opts.deep_globs:
        TEXTS.append("'" + "/*" * 200 + "'")
    seed = opts.seed if opts.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    setup = psql(["-v", "ON_ERROR_STOP=1"], SETUP)
    if setup.returncode != 0:
        sys.exit("setup failed: " + setup.stderr)
    sigs = signatures()
    if not sigs:
        sys.exit("no functions found in schema incremental")

    lines = ["\\set VERBOSITY verbose", "SET client_min_messages = error;",
             "SET statement_timeout = '10s';", "SET search_path = fuzz, public;"]
    for i in range(opts.calls):
        sql = call(rng, rng.choice(sigs))
        lines.append("\\echo @call %d" % i)
        if rng.random() < opts.commit_ratio:
            lines.append(sql + ";")
        else:
            lines.append("BEGIN;")
            lines.append(sql + ";")
            lines.append("ROLLBACK;")
    script = "\n".join(lines) + "\n"
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=0", "-f", path],
                         capture_output=True, text=True)
    os.unlink(path)

    err = res.stderr
    lost = ("server closed the connection" in err or "connection to server was lost" in err
            or "terminating connection" in err)
    errors = re.findall(r"ERROR:  ([0-9A-Z]{5}): (.*)", err)
    internal = sorted({m for code, m in errors if code == "XX000"})
    bad = re.findall(r"^(?:psql:[^:]*:\d+: )?(FATAL|PANIC):.*$", err, re.M)
    calls_done = res.stdout.count("@call ")
    codes = {}
    for code, _ in errors:
        codes[code] = codes.get(code, 0) + 1

    check = psql(["-At"], consistency_sql())
    problems = [l for l in check.stdout.splitlines() if l.strip()] + \
        ([check.stderr.strip()] if check.stderr.strip() else [])
    pipelines = psql(["-At"], "SELECT count(*) FROM incremental.pipelines").stdout.strip()

    top = ", ".join("%s %d" % kv for kv in sorted(codes.items(), key=lambda kv: -kv[1])[:8])
    print("fuzz: seed %d, %d calls made of %d, %d clean errors (%s), %d internal errors, "
          "%d fatal/panic, connection lost: %s, pipelines left: %s, catalog consistent: %s"
          % (seed, calls_done, opts.calls, len(errors), top, len(internal), len(bad),
             "yes" if lost else "no", pipelines, "no" if problems else "yes"))
    for m in internal:
        print("internal error: " + m)
    for p in problems:
        print("catalog problem: " + p)
    sys.exit(1 if lost or bad or problems or calls_done < opts.calls else 0)


if __name__ == "__main__":
    main()
