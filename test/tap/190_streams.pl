# Streams (issue 13) under concurrent writers, with the scheduler running.
#
# A stream clicks (create_stream, partitions of 2000 ids, 3 ahead) has three
# consumers: two continuous views (per writer: count and sum; per minute:
# count) and a sequence pipeline that inserts every id it is given into
# seen_ids, whose primary key makes a batch given twice fail.  Four pgbench
# clients write for INCREMENTAL_STREAMS_SECONDS (140): single rows, multi-row
# INSERT ... SELECT and VALUES, multi-statement transactions, late
# timestamps, rolled back transactions and subtransactions; the test's own
# session adds COPY batches, some rolled back.  Every writer logs what it
# inserts in committed_log in the same transaction, so committed_log is what
# committed.
#
# Meanwhile one view's pipeline is paused for a while and the sequence
# pipeline fails for a while (a NOT VALID CHECK constraint on seen_ids that
# every row violates): retention must keep their rows.  An event trigger
# ON sql_drop logs every dropped partition of clicks with the lowest
# progress of the three consumers at that moment, inside the maintenance
# transaction: no partition may go before every consumer has processed its
# last id.  While a consumer holds rows back, incremental.streams and
# pipeline_stats must say so.
#
# At the end every consumer catches up: the views equal committed_log, and
# seen_ids holds exactly the committed rows; the next maintenance leaves only
# the partition of the last id and those ahead of it.  DROP TABLE clicks
# CASCADE forgets the stream and drops its maintenance pipeline.
#
# Last, a COPY burst outruns the partitions ahead: its rows land in DEFAULT,
# the next maintenance moves them into partitions of their own, and they are
# processed exactly once too.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep time);
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $seconds = $ENV{INCREMENTAL_STREAMS_SECONDS} // 140;
my $partition_size = 2000;
my $ahead = 3;
my @consumers = ('public.per_writer', 'public.per_minute', 'seen');
my $consumer_list = join(', ', map { "'$_'" } @consumers);

my $node = new_scheduler_node('streams', extra_conf => "timezone = 'UTC'\n");

# $sql until it returns $expected ('t'), for at most $timeout seconds
sub poll_until
{
	my ($sql, $timeout, $expected) = @_;
	$expected //= 't';
	my $deadline = time() + $timeout;
	my $out = '';
	while (1)
	{
		my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql);
		$out = $stdout;
		return 1 if $ret == 0 && $out eq $expected;
		if (time() > $deadline)
		{
			diag("timed out after $timeout s waiting for '$expected' from: $sql\nlast output: '$out' $stderr");
			return 0;
		}
		usleep(200_000);
	}
}

sub query { return $node->safe_psql('postgres', $_[0]) }

# the lowest progress of the three consumers
my $min_progress_sql =
  "SELECT min(last_processed_sequence_number) FROM incremental.sequence_pipelines WHERE pipeline_name IN ($consumer_list)";

# --- the stream, its consumers and the drop log
query(qq{
CREATE EXTENSION pg_incremental;
SELECT incremental.create_stream('clicks',
  \$\$ writer int NOT NULL, n int NOT NULL, click_time timestamptz NOT NULL DEFAULT now() \$\$,
  partition_size := $partition_size, partitions_ahead := $ahead);

-- what committed: every writer logs its rows here in the same transaction
CREATE TABLE committed_log (writer int NOT NULL, n int NOT NULL, PRIMARY KEY (writer, n));
-- the per-writer sequence numbers n
CREATE SEQUENCE w0; CREATE SEQUENCE w1; CREATE SEQUENCE w2; CREATE SEQUENCE w3;

CREATE VIEW per_writer WITH (incremental.continuous, incremental.schedule = '1 second',
                             incremental.max_batch_size = 1500) AS
  SELECT writer, count(*) AS c, sum(n) AS s FROM clicks GROUP BY writer;
CREATE VIEW per_minute WITH (incremental.continuous, incremental.schedule = '1 second',
                             incremental.max_batch_size = 2500) AS
  SELECT date_trunc('minute', click_time, 'UTC') AS minute, count(*) AS c FROM clicks GROUP BY 1;

-- an id given twice fails its batch
CREATE TABLE seen_ids (id bigint PRIMARY KEY, writer int, n int);
SELECT incremental.create_sequence_pipeline('seen', 'clicks',
  \$\$INSERT INTO seen_ids SELECT id, writer, n FROM clicks WHERE id BETWEEN \$1 AND \$2\$\$,
  schedule => '1 second', max_batch_size => 1000, execute_immediately => false);

-- every dropped partition of clicks, with the lowest progress of the
-- consumers at that moment (in the dropping transaction)
CREATE TABLE drop_log (dropped text NOT NULL, min_progress bigint,
                       dropped_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION log_drops() RETURNS event_trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public AS \$f\$
DECLARE
  o record;
BEGIN
  FOR o IN SELECT * FROM pg_event_trigger_dropped_objects()
           WHERE object_type = 'table' AND object_name LIKE 'clicks\\_p%'
  LOOP
    INSERT INTO public.drop_log (dropped, min_progress)
    SELECT o.object_name, min(last_processed_sequence_number)
    FROM incremental.sequence_pipelines WHERE pipeline_name IN ($consumer_list);
  END LOOP;
END
\$f\$;
CREATE EVENT TRIGGER log_drops ON sql_drop EXECUTE FUNCTION log_drops();
});

is( query(
		"SELECT array_to_string(consumers, ',') || ' ' || maintenance_pipeline || ' ' || partitions FROM incremental.streams WHERE stream = 'clicks'::regclass"
	),
	'public.per_writer,public.per_minute,seen clicks:retention ' . ($ahead + 1),
	'the stream lists its three consumers, its maintenance pipeline and its first partitions');

# --- the writers
my $dir = PostgreSQL::Test::Utils::tempdir;
my $next_n = "nextval(('w' || :client_id)::regclass)";
my $log_it = 'INSERT INTO committed_log SELECT writer, n FROM r';
my %scripts = (
	single => "WITH r AS (INSERT INTO clicks (writer, n) VALUES (:client_id, $next_n) RETURNING writer, n) $log_it;\n",
	multi => qq{\\set k random(2, 20)
WITH r AS (INSERT INTO clicks (writer, n) SELECT :client_id, $next_n FROM generate_series(1, :k) RETURNING writer, n) $log_it;
},
	values => qq{BEGIN;
WITH r AS (INSERT INTO clicks (writer, n, click_time) VALUES (:client_id, $next_n, now()),
  (:client_id, $next_n, now() - interval '2 hours'), (:client_id, $next_n, DEFAULT) RETURNING writer, n) $log_it;
WITH r AS (INSERT INTO clicks (writer, n) VALUES (:client_id, $next_n) RETURNING writer, n) $log_it;
COMMIT;
},
	rollback => qq{\\set k random(1, 20)
BEGIN;
WITH r AS (INSERT INTO clicks (writer, n) SELECT :client_id, $next_n FROM generate_series(1, :k) RETURNING writer, n) $log_it;
ROLLBACK;
},
	savepoint => qq{\\set k random(1, 20)
BEGIN;
WITH r AS (INSERT INTO clicks (writer, n) VALUES (:client_id, $next_n) RETURNING writer, n) $log_it;
SAVEPOINT s;
WITH r AS (INSERT INTO clicks (writer, n) SELECT :client_id, $next_n FROM generate_series(1, :k) RETURNING writer, n) $log_it;
ROLLBACK TO SAVEPOINT s;
WITH r AS (INSERT INTO clicks (writer, n) VALUES (:client_id, $next_n) RETURNING writer, n) $log_it;
COMMIT;
});
my %weights = (single => 3, multi => 3, values => 2, rollback => 1, savepoint => 1);
my @files;
for my $s (sort keys %scripts)
{
	PostgreSQL::Test::Utils::append_to_file("$dir/$s.sql", $scripts{$s});
	push @files, '-f', "$dir/$s.sql\@$weights{$s}";
}
# about 7 ids per transaction: some 170 ids a second, some 1700 between two
# maintenance runs, far fewer than the 6000 ids of the partitions ahead
my $pgbench_log = "$dir/pgbench.log";
my $pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', 4, '-j', 2, '-T', $seconds, '-R', 24, @files,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', $pgbench_log, '2>&1');

# the test's session writes COPY batches as writer 9
my $copy_n = 0;
my ($copies, $copies_rolled_back) = (0, 0);
sub copy_batch
{
	my ($rows, $commit) = @_;
	my ($from, $to) = ($copy_n + 1, $copy_n + $rows);
	$copy_n = $to;
	my $data = join('', map { "9\t$_\n" } $from .. $to);
	query("BEGIN;\nCOPY clicks (writer, n) FROM STDIN;\n$data\\.\n"
		  . "INSERT INTO committed_log SELECT 9, g FROM generate_series($from, $to) g;\n"
		  . ($commit ? 'COMMIT;' : 'ROLLBACK;'));
	$commit ? $copies++ : $copies_rolled_back++;
}

# the pipeline that holds rows back now, in incremental.streams and in
# pipeline_stats: 'held partitions|in held_back_by|holds_back has clicks'
sub hold_sample
{
	my ($pipeline) = @_;
	return query(qq{
SELECT s.partitions_held, coalesce('$pipeline' = ANY (s.held_back_by), false),
       coalesce('clicks'::regclass = ANY (ps.holds_back), false)
FROM incremental.streams s, incremental.pipeline_stats ps
WHERE s.stream = 'clicks'::regclass AND ps.pipeline_name = '$pipeline'});
}

sub progress_of
{
	my ($pipeline) = @_;
	return query(
		"SELECT last_processed_sequence_number FROM incremental.sequence_pipelines WHERE pipeline_name = '$pipeline'");
}

# the timeline, in seconds from the start of the writers
my ($pause_at, $resume_at) = (0.07 * $seconds, 0.36 * $seconds);
my ($fail_at, $fix_at) = (0.43 * $seconds, 0.64 * $seconds);
my ($paused, $resumed, $failing, $fixed) = (0, 0, 0, 0);
my (%held_seen, %stats_seen, %samples);
my ($paused_progress, $paused_progress_end);
my $max_partitions = 0;
my $start = time();
my $next_copy = 3;

while (time() - $start < $seconds)
{
	my $t = time() - $start;

	if (!$paused && $t >= $pause_at)
	{
		query("SELECT incremental.pause_pipeline('public.per_writer')");
		$paused = time();
	}
	if ($paused && !$resumed && !defined $paused_progress && time() - $paused > 3)
	{
		# a batch that began before the pause has committed
		$paused_progress = progress_of('public.per_writer');
	}
	if ($paused && !$resumed && $t >= $resume_at)
	{
		$paused_progress_end = progress_of('public.per_writer');
		query("SELECT incremental.resume_pipeline('public.per_writer')");
		$resumed = 1;
	}
	if (!$failing && $t >= $fail_at)
	{
		query('ALTER TABLE seen_ids ADD CONSTRAINT seen_ids_blocked CHECK (id < 0) NOT VALID');
		$failing = 1;
	}
	if ($failing && !$fixed && $t >= $fix_at)
	{
		query('ALTER TABLE seen_ids DROP CONSTRAINT seen_ids_blocked');
		# its failures backed off: it need not wait for its next retry
		query("CALL incremental.execute_pipeline('seen')");
		$fixed = 1;
	}

	# who holds rows back now
	my $holder =
	    ($paused && !$resumed) ? 'public.per_writer'
	  : ($failing && !$fixed) ? 'seen'
	  : undef;
	if ($holder)
	{
		my ($held, $in_held_back_by, $holds_back) = split /\|/, hold_sample($holder);
		$samples{$holder}++;
		$held_seen{$holder}++ if ($held || 0) > 0 && $in_held_back_by eq 't';
		$stats_seen{$holder}++ if $holds_back eq 't';
	}
	my $partitions = query(
		"SELECT count(*) FROM pg_inherits WHERE inhparent = 'clicks'::regclass");
	$max_partitions = $partitions if $partitions > $max_partitions;

	if ($t >= $next_copy)
	{
		copy_batch(20 + int(rand(80)), rand() < 0.8);
		$next_copy = $t + 2 + rand(4);
	}
	usleep(500_000);
}
$pgbench->finish;
is($pgbench->result(0), 0, 'pgbench finished') or diag(slurp_file($pgbench_log));
my ($tps) = slurp_file($pgbench_log) =~ /tps = ([\d.]+)/;
my $last_id = query('SELECT last_value FROM clicks_id_seq');
my $committed = query('SELECT count(*) FROM committed_log');
diag("writers: $committed rows committed of $last_id ids drawn; pgbench " . ($tps // '?')
	  . " tps; $copies COPY batches committed, $copies_rolled_back rolled back; at most $max_partitions partitions");

ok($paused && $resumed && $failing && $fixed, 'the pause and the failure both happened during the writes');
is($paused_progress_end, $paused_progress, 'the paused view made no progress while paused');
cmp_ok($held_seen{'public.per_writer'} // 0, '>', 0,
	'while per_writer was paused, incremental.streams showed held partitions, held back by it ('
	  . ($samples{'public.per_writer'} // 0) . ' samples)');
cmp_ok($stats_seen{'public.per_writer'} // 0, '>', 0,
	'while per_writer was paused, its pipeline_stats.holds_back contained clicks');
cmp_ok($held_seen{seen} // 0, '>', 0,
	'while seen was failing, incremental.streams showed held partitions, held back by it ('
	  . ($samples{seen} // 0) . ' samples)');
cmp_ok($stats_seen{seen} // 0, '>', 0, 'while seen was failing, its pipeline_stats.holds_back contained clicks');
cmp_ok(
	query(
		"SELECT count(*) FROM incremental.pipeline_runs WHERE pipeline_name = 'seen' AND status = 'failed' AND error_message LIKE '%seen_ids_blocked%'"
	),
	'>', 0,
	'seen failed while its target refused every row');

# --- after the writers: every consumer catches up
my $caught_up = qq{SELECT count(*) = 3 AND bool_and(last_processed_sequence_number = (SELECT last_value FROM clicks_id_seq))
FROM incremental.sequence_pipelines WHERE pipeline_name IN ($consumer_list)};
if (!poll_until($caught_up, 40))
{
	query("CALL incremental.execute_pipeline('$_')") for @consumers;
}
ok(poll_until($caught_up, 60), 'every consumer caught up with the last id drawn');
is( query(
		"SELECT string_agg(pipeline_name || ': ' || pending, ', ') FROM incremental.pipeline_stats WHERE pipeline_name IN ($consumer_list) AND pending IS DISTINCT FROM 0"
	),
	'',
	'no consumer has pending ids');
is( query(
		"SELECT string_agg(pipeline_name || ': ' || error_message, E'\\n') FROM incremental.pipeline_runs WHERE status = 'failed' AND NOT (pipeline_name = 'seen' AND error_message LIKE '%seen_ids_blocked%')"
	),
	'',
	'no run failed but those of seen while its target refused every row');

# the views and seen_ids against what committed
is( query(qq{
SELECT count(*) FROM per_writer v
FULL JOIN (SELECT writer, count(*) AS c, sum(n) AS s FROM committed_log GROUP BY writer) l USING (writer)
WHERE v.c IS DISTINCT FROM l.c OR v.s IS DISTINCT FROM l.s}),
	'0',
	'per_writer: the count and sum of every writer equal its committed rows');
is(query('SELECT count(*) FROM per_writer'), '5', 'per_writer has the four pgbench writers and the COPY writer');
is(query('SELECT sum(c) FROM per_minute'), $committed, 'per_minute: the counts add up to the committed rows');
cmp_ok(query("SELECT count(*) FROM per_minute WHERE minute < now() - interval '1 hour'"),
	'>', 0, 'per_minute has the late rows in minutes of their own');
is(query('SELECT count(*) FROM seen_ids'), $committed, 'seen_ids has as many rows as committed');
is( query(q{
SELECT count(*) FROM seen_ids s FULL JOIN committed_log l USING (writer, n)
WHERE s.id IS NULL OR l.writer IS NULL}),
	'0',
	'seen_ids has exactly the committed rows');
is(query('SELECT count(*) FROM seen_ids WHERE id > (SELECT last_value FROM clicks_id_seq) OR id < 1'),
	'0', 'every id in seen_ids was drawn from the stream');

# --- no partition was dropped before every consumer had processed it
my $drops = query('SELECT count(*) FROM drop_log');
cmp_ok($drops, '>=', 3, "partitions were dropped during the writes ($drops)");
is( query(qq{
SELECT string_agg(format('%s dropped at %s with consumers at %s', dropped, dropped_at, min_progress), E'\\n')
FROM drop_log
WHERE NOT coalesce(substring(dropped FROM '^clicks_p([0-9]+)\$')::bigint + $partition_size - 1 <= min_progress, false)}),
	'',
	'every dropped partition was processed by every consumer (its last id <= their lowest progress)');
is(query('SELECT count(*) - count(DISTINCT dropped) FROM drop_log'), '0', 'no partition was dropped twice');
diag('drops: ' . query(qq{
SELECT count(*) || ' partitions, the closest with its last id '
    || min(min_progress - (substring(dropped FROM '^clicks_p([0-9]+)\$')::bigint + $partition_size - 1))
    || ' below the lowest progress'
FROM drop_log}));

# --- the next maintenance leaves only what a consumer still needs (a run
# whose lock is not granted in time drops nothing, and the next one retries)
my $partitions_sql = q{
SELECT c.relname, b[1]::bigint AS lower, b[2]::bigint AS upper
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
     regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''?(-?[0-9]+)''?\) TO \(''?(-?[0-9]+)''?\)') b
WHERE i.inhparent = 'clicks'::regclass};
my $settled = qq{
SELECT NOT EXISTS (SELECT FROM ($partitions_sql) p WHERE upper - 1 <= ($min_progress_sql))
   AND s.partitions_held = 0 AND s.ids_ahead >= $ahead * $partition_size
FROM incremental.streams s WHERE s.stream = 'clicks'::regclass};
query("CALL incremental.execute_pipeline('clicks:retention')");
ok(poll_until($settled, 35), 'the maintenance dropped every partition that every consumer processed');
my $consumed = query($min_progress_sql);
is($consumed, $last_id, 'the lowest consumer progress is the last id');
is( query(
		"SELECT string_agg(format('%s [%s, %s)', relname, lower, upper), ', ') FROM ($partitions_sql) p WHERE upper - 1 <= $consumed"
	),
	'',
	'every partition that every consumer processed is gone');
cmp_ok(query("SELECT count(*) FROM ($partitions_sql) p WHERE lower <= $last_id"),
	'<=', 1, 'of the partitions holding drawn ids, only the one of the last id is left');
is( query(
		"SELECT string_agg(relname, ', ') FROM ($partitions_sql) p WHERE relname <> 'clicks_p' || lower"),
	'', 'every partition is named after its lower bound');
is( query(
		"SELECT partitions_held || ' ' || (ids_ahead >= $ahead * $partition_size) || ' ' || consumed_through FROM incremental.streams WHERE stream = 'clicks'::regclass"
	),
	"0 true $last_id",
	'incremental.streams: no partition held, enough ids ahead, consumed through the last id');
is(query('SELECT count(*) FROM clicks_default'), '0', 'no row went to the default partition');

# --- rows that outran the partitions, into DEFAULT, are moved out by the
# next maintenance, and still processed exactly once
my $burst = ($ahead + 2) * $partition_size;
copy_batch($burst, 1);
cmp_ok(query('SELECT count(*) FROM clicks_default'), '>', 0,
	"a COPY of $burst rows outran the partitions into DEFAULT");
ok(poll_until('SELECT count(*) = 0 FROM clicks_default', 40), 'the next maintenance moves the rows out of DEFAULT');
like(slurp_file($node->logfile), qr/moved \d+ rows of stream public\.clicks out of its default partition/,
	'and logs that it did');
ok(poll_until($caught_up, 40), 'every consumer caught up with the burst');
is( query(qq{
SELECT count(*) FROM per_writer v
FULL JOIN (SELECT writer, count(*) AS c, sum(n) AS s FROM committed_log GROUP BY writer) l USING (writer)
WHERE v.c IS DISTINCT FROM l.c OR v.s IS DISTINCT FROM l.s}),
	'0',
	'per_writer still equals the committed rows');
is( query(q{
SELECT count(*) FROM seen_ids s FULL JOIN committed_log l USING (writer, n)
WHERE s.id IS NULL OR l.writer IS NULL}),
	'0',
	'seen_ids still has exactly the committed rows');
is( query(
		"SELECT string_agg(pipeline_name || ': ' || error_message, E'\\n') FROM incremental.pipeline_runs WHERE status = 'failed' AND NOT (pipeline_name = 'seen' AND error_message LIKE '%seen_ids_blocked%')"
	),
	'',
	'no run failed after the burst either');
ok(poll_until($settled, 35), 'the next maintenance dropped what every consumer processed of the burst');
is( query(qq{
SELECT string_agg(format('%s dropped at %s with consumers at %s', dropped, dropped_at, min_progress), E'\\n')
FROM drop_log
WHERE NOT coalesce(substring(dropped FROM '^clicks_p([0-9]+)\$')::bigint + $partition_size - 1 <= min_progress, false)}),
	'',
	'every partition dropped, the moved ones included, was processed by every consumer');
is(query('SELECT count(*) FROM clicks_default'), '0', 'and DEFAULT stays empty');

# --- DROP TABLE forgets the stream and drops its maintenance pipeline
query('DROP EVENT TRIGGER log_drops');
query('DROP TABLE clicks CASCADE');
is( query(q{
SELECT (SELECT count(*) FROM incremental.stream_definitions) || ' '
    || (SELECT count(*) FROM incremental.pipelines WHERE pipeline_name = 'clicks:retention') || ' '
    || (SELECT count(*) FROM incremental.streams)}),
	'0 0 0',
	'DROP TABLE clicks CASCADE removes the stream definition and its maintenance pipeline');
is(query("SELECT count(*) FROM incremental.pipelines WHERE pipeline_name IN ($consumer_list)"),
	'0', 'and its consumers');

$node->stop;
done_testing();
