# The scheduler looks for work before it runs a pipeline (pipeline_probe.h)
# and re-reads the pipelines only when they change.  Its looks remember what
# they saw - the sequence's last value, when the next interval is ready -
# and must never hide work: not after a reset with no new rows, not when a
# pipeline is dropped and created again under the same name, not when
# intervals keep passing.  A direct UPDATE of the catalog wakes it at once.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IncrementalTest;

my $node = new_scheduler_node('looks_first');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');

# --- a sequence pipeline that logs every id it is given
$node->safe_psql('postgres', q{
CREATE TABLE seq_events (id bigserial PRIMARY KEY, value int);
CREATE TABLE seq_log (id bigint NOT NULL);
INSERT INTO seq_events (value) SELECT g FROM generate_series(1, 100) g;
SELECT incremental.create_sequence_pipeline('seq', 'seq_events',
  $$INSERT INTO seq_log SELECT id FROM seq_events WHERE id BETWEEN $1 AND $2$$,
  schedule => '100 milliseconds', execute_immediately => false);
});
ok($node->poll_query_until('postgres', 'SELECT count(*) = 100 FROM seq_log'),
	'the scheduler processes existing rows');

# idle for a while: the looks find nothing, and remember the sequence value
sleep(1);
is($node->safe_psql('postgres', 'SELECT count(*) FROM seq_log'), '100',
	'nothing is processed twice while the pipeline is idle');

# a reset moves progress back while the sequence stays where it was
$node->safe_psql('postgres', "SELECT incremental.reset_pipeline('seq')");
ok($node->poll_query_until('postgres', 'SELECT count(*) = 200 FROM seq_log'),
	'after a reset with no new rows, the scheduler processes everything again');
is($node->safe_psql('postgres',
	'SELECT count(*) FROM (SELECT id FROM seq_log GROUP BY id HAVING count(*) <> 2) x'), '0',
	'every id was processed exactly once more');

# new rows after a long idle spell
$node->safe_psql('postgres', 'INSERT INTO seq_events (value) VALUES (1), (2), (3)');
ok($node->poll_query_until('postgres', 'SELECT count(*) = 203 FROM seq_log'),
	'rows inserted after an idle spell are picked up');

# --- dropped and created again under the same name, on another table whose
# sequence has the very value the old one had
$node->safe_psql('postgres', q{
SELECT incremental.drop_pipeline('seq');
CREATE TABLE seq2_events (id bigserial PRIMARY KEY, value int);
INSERT INTO seq2_events (value) SELECT g FROM generate_series(1, 103) g;
TRUNCATE seq_log;
SELECT incremental.create_sequence_pipeline('seq', 'seq2_events',
  $$INSERT INTO seq_log SELECT id FROM seq2_events WHERE id BETWEEN $1 AND $2$$,
  schedule => '100 milliseconds', execute_immediately => false);
});
ok($node->poll_query_until('postgres', 'SELECT count(*) = 103 FROM seq_log'),
	'a pipeline created again under the same name is run on its new table');

# --- dropped and created again under the same name as another kind
$node->safe_psql('postgres', q{
CREATE TABLE kind_events (id bigserial PRIMARY KEY);
CREATE TABLE kind_log (what text NOT NULL);
INSERT INTO kind_events DEFAULT VALUES;
SELECT incremental.create_sequence_pipeline('kind', 'kind_events',
  $$INSERT INTO kind_log SELECT 'sequence' FROM kind_events WHERE id BETWEEN $1 AND $2$$,
  schedule => '100 milliseconds', execute_immediately => false);
});
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM kind_log"),
	'a sequence pipeline runs');
$node->safe_psql('postgres', q{
SELECT incremental.drop_pipeline('kind');
SELECT incremental.create_time_interval_pipeline('kind', '1 second',
  $$INSERT INTO kind_log VALUES ('interval')$$,
  min_delay => '0', start_time => now() - interval '2 seconds',
  schedule => '100 milliseconds', execute_immediately => false);
});
ok($node->poll_query_until('postgres', "SELECT count(*) > 0 FROM kind_log WHERE what = 'interval'"),
	'a pipeline created again under the same name as another kind runs as its new kind');

# --- a time interval pipeline: intervals keep ending, each is processed once
$node->safe_psql('postgres', q{
CREATE TABLE time_log (s timestamptz NOT NULL, e timestamptz NOT NULL);
SELECT incremental.create_time_interval_pipeline('ticks', '1 second',
  $$INSERT INTO time_log VALUES ($1, $2)$$,
  batched => false, min_delay => '500 milliseconds', start_time => now() - interval '3 seconds',
  schedule => '100 milliseconds', execute_immediately => false);
});
ok($node->poll_query_until('postgres', 'SELECT count(*) >= 6 FROM time_log'),
	'intervals are processed as they end');
is($node->safe_psql('postgres', q{
SELECT count(*) FILTER (WHERE e - s <> interval '1 second')
     + count(*) FILTER (WHERE prev_e IS NOT NULL AND s <> prev_e)
FROM (SELECT s, e, lag(e) OVER (ORDER BY s) AS prev_e FROM time_log) x}), '0',
	'one interval at a time, without gaps or overlaps');
is($node->safe_psql('postgres', q{
SELECT max(e) <= now() - interval '500 milliseconds'
   AND max(e) >= now() - interval '3 seconds' FROM time_log}), 't',
	'intervals wait for min_delay, and are not left behind');

# a reset with no new data: everything from start_time again
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM time_log');
$node->safe_psql('postgres', "SELECT incremental.reset_pipeline('ticks')");
ok($node->poll_query_until('postgres',
	"SELECT count(*) >= 2 * $before FROM time_log"),
	'after a reset, the scheduler processes the intervals again');
is($node->safe_psql('postgres',
	'SELECT count(*) FROM (SELECT s FROM time_log GROUP BY s HAVING count(*) > 2) x'), '0',
	'no interval was processed more than once per reset');

# --- a direct UPDATE of the catalog wakes the worker, whatever the naptime
$node->safe_psql('postgres', "SELECT incremental.pause_pipeline('ticks')");
$node->safe_psql('postgres', "ALTER SYSTEM SET incremental.naptime = '1h'");
$node->reload;
$node->safe_psql('postgres',
	"UPDATE incremental.pipelines SET schedule = '0 0 1 1 *' WHERE pipeline_name = 'seq'");
sleep(1);
$node->safe_psql('postgres', 'INSERT INTO seq2_events (value) VALUES (1)');
sleep(1);
is($node->safe_psql('postgres', 'SELECT count(*) FROM seq_log'), '103',
	'a yearly schedule set by UPDATE is in force');
$node->safe_psql('postgres',
	"UPDATE incremental.pipelines SET schedule = '100 milliseconds' WHERE pipeline_name = 'seq'");
ok($node->poll_query_until('postgres', 'SELECT count(*) = 104 FROM seq_log'),
	'a schedule changed by UPDATE is seen at commit, with a naptime of an hour');

# --- a pipeline the look cannot read is run, and its error recorded
$node->safe_psql('postgres', q{
ALTER SYSTEM SET incremental.naptime = '100ms';
SELECT pg_reload_conf();
CREATE TABLE bad_events (id bigserial PRIMARY KEY);
SELECT incremental.create_sequence_pipeline('bad', 'bad_events',
  $$SELECT 1/0 FROM bad_events WHERE id BETWEEN $1 AND $2$$,
  schedule => '100 milliseconds', execute_immediately => false);
INSERT INTO bad_events DEFAULT VALUES;
});
ok($node->poll_query_until('postgres',
	"SELECT last_error_sqlstate = '22012' FROM incremental.pipeline_stats WHERE pipeline_name = 'bad'"),
	'a failing pipeline is still run and its error recorded');
$node->safe_psql('postgres', 'INSERT INTO seq2_events (value) VALUES (1)');
ok($node->poll_query_until('postgres', 'SELECT count(*) = 105 FROM seq_log'),
	'the other pipelines keep running');

$node->stop;
done_testing();
