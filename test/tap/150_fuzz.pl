# Hostile input: test/fuzz/fuzz.py calls every function of schema
# incremental with random, boundary and malicious arguments
# (INCREMENTAL_FUZZ_CALLS, 10,000 here) while the scheduler runs whatever
# pipelines the calls manage to create.  No backend may crash, every
# refusal must be a clean ERROR, and the catalog must be consistent after.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use lib "$FindBin::RealBin/../long";
use IncrementalTest;
use ExactlyOnce;

my $calls = $ENV{INCREMENTAL_FUZZ_CALLS} // 10000;
my $seed = $ENV{INCREMENTAL_FUZZ_SEED} // int(rand(1 << 30));

my $node = new_scheduler_node('fuzz');
$node->safe_psql('postgres', q{CREATE EXTENSION pg_incremental;
ALTER DATABASE postgres SET statement_timeout = '10s'});

local $ENV{PGHOST} = $node->host;
local $ENV{PGPORT} = $node->port;
local $ENV{PGDATABASE} = 'postgres';
my ($stdout, $stderr);
my $ok = IPC::Run::run(['python3', "$FindBin::RealBin/../fuzz/fuzz.py", '--calls', $calls, '--seed', $seed],
	'>', \$stdout, '2>', \$stderr);
diag($stdout);
diag($stderr) if $stderr;
ok($ok, "the fuzz run ends cleanly (seed $seed)");
like($stdout, qr/$calls calls made of $calls/, "all $calls calls were made");
like($stdout, qr/connection lost: no/, 'the connection was never lost');
like($stdout, qr/0 fatal\/panic/, 'no FATAL or PANIC');
like($stdout, qr/catalog consistent: yes/, 'the catalog is consistent afterwards');
is(server_log_crashes($node), 0, 'no process was terminated by a signal');
# a worker runs exactly when a pipeline is left for it to schedule
ok( $node->poll_query_until(
		'postgres', q{
SELECT count(*) FILTER (WHERE backend_type = 'pg_incremental launcher') = 1
   AND count(*) FILTER (WHERE backend_type = 'pg_incremental worker') =
       (SELECT count(DISTINCT owner_id) FROM incremental.pipelines
        WHERE schedule IS NOT NULL AND NOT paused AND scheduled_by = 'internal')
FROM pg_stat_activity}),
	'the launcher is still there, with a worker for each role that has scheduled pipelines');
$node->stop;
done_testing();
