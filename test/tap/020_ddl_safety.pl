# Databases come and go while the scheduler serves them: a database created
# later is served without a restart, and DROP DATABASE, ALTER DATABASE
# RENAME / SET TABLESPACE and CREATE DATABASE ... TEMPLATE of a served
# database succeed without the user stopping anything.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use FindBin;
use lib $FindBin::RealBin;
use IncrementalTest;

my $node = new_scheduler_node('ddl');

# --- a database created after startup is served, without a restart
$node->safe_psql('postgres', 'CREATE DATABASE served');
$node->safe_psql('served', 'CREATE EXTENSION pg_incremental');
my $start = time();
create_sum_pipeline($node, 'served', 'ddl');
insert_events($node, 'served', 'ddl', 100);
wait_for_rollup($node, 'served', 'ddl', 'a database created later is served');
note(sprintf('served %.1f s after CREATE EXTENSION', time() - $start));
is(worker_count($node, 'served'), '1', 'by exactly one worker');
is(worker_count($node, 'postgres'), '0', 'a database without the extension has no worker');

# --- ALTER DATABASE ... RENAME of a served database
is($node->psql('postgres', 'ALTER DATABASE served RENAME TO renamed'),
	0, 'RENAME of a served database succeeds');
insert_events($node, 'renamed', 'ddl', 100);
wait_for_rollup($node, 'renamed', 'ddl', 'the renamed database is served again');

# --- CREATE DATABASE ... TEMPLATE of a served database
is($node->psql('postgres', 'CREATE DATABASE copy TEMPLATE renamed'),
	0, 'CREATE DATABASE ... TEMPLATE of a served database succeeds');
insert_events($node, 'copy', 'ddl', 100);
wait_for_rollup($node, 'copy', 'ddl', 'the copy, which has the extension, is served too');
insert_events($node, 'renamed', 'ddl', 100);
wait_for_rollup($node, 'renamed', 'ddl', 'and so is the template again');

# --- ALTER DATABASE ... SET TABLESPACE of a served database
my $location = $node->basedir . '/moved';
mkdir $location or die "mkdir $location: $!";
$node->safe_psql('postgres', "CREATE TABLESPACE moved LOCATION '$location'");
is($node->psql('postgres', 'ALTER DATABASE copy SET TABLESPACE moved'),
	0, 'SET TABLESPACE of a served database succeeds');
insert_events($node, 'copy', 'ddl', 100);
wait_for_rollup($node, 'copy', 'ddl', 'the moved database is served again');

# --- DROP DATABASE of served databases
is($node->psql('postgres', 'DROP DATABASE copy'), 0, 'DROP DATABASE of a served database succeeds');
is($node->psql('postgres', 'DROP DATABASE renamed'), 0, 'and again for another one');
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'"),
	'no worker is left behind');

# --- a database with the extension has a worker while it has scheduled
# pipelines; DROP EXTENSION makes the worker exit; CREATE EXTENSION and a
# pipeline bring one back
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');
create_sum_pipeline($node, 'postgres', 'first');
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND datname = 'postgres'"),
	'a scheduled pipeline in a new extension gets a worker in seconds');
$node->safe_psql('postgres', "SELECT incremental.drop_pipeline('first')");
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND datname = 'postgres'"),
	'a database without scheduled pipelines needs no worker');
$node->safe_psql('postgres', "SELECT incremental.create_sequence_pipeline('second', 'first_events', \$\$SELECT \$1, \$2\$\$, schedule => '1 second')");
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker' AND datname = 'postgres'"),
	'and gets one again with its next scheduled pipeline');
$node->safe_psql('postgres', 'DROP EXTENSION pg_incremental');
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_incremental worker'"),
	'DROP EXTENSION makes the worker exit');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_incremental');
create_sum_pipeline($node, 'postgres', 'again');
insert_events($node, 'postgres', 'again', 10);
wait_for_rollup($node, 'postgres', 'again', 'a re-created extension is served');

ok(!$node->log_contains('is being accessed by other users'),
	'no DDL ever found the database busy');

$node->stop;
done_testing();
