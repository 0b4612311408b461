# set_retention on a table whose partitions pg_partman creates: pg_partman
# keeps creating them ahead, and the retention drops the ones every
# consumer has processed, as docs/streams.md says.  Skipped without
# pg_partman (Debian's postgresql-15-partman).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
plan skip_all => 'pg_partman is not installed (Debian package postgresql-15-partman)'
  unless -f "$sharedir/extension/pg_partman.control";

my $node = PostgreSQL::Test::Cluster->new('partman');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_incremental'");
$node->append_conf('postgresql.conf', "incremental.enabled = off");
$node->start;

my $partitions = q{
	SELECT string_agg(c.relname, ',' ORDER BY c.relname)
	FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	WHERE i.inhparent = 'logs'::regclass};

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION pg_incremental;
	CREATE SCHEMA partman;
	CREATE EXTENSION pg_partman SCHEMA partman;
	CREATE TABLE logs (id bigint GENERATED ALWAYS AS IDENTITY, msg text) PARTITION BY RANGE (id);
	SELECT partman.create_parent('public.logs', 'id', 'native', '100', p_premake := 3,
	                             p_start_partition := '0');
	INSERT INTO logs (msg) SELECT 'm' FROM generate_series(1, 250);
	SELECT incremental.set_retention('logs', 'consumed');
	CREATE TABLE seen (id bigint PRIMARY KEY);
	SELECT incremental.create_sequence_pipeline('log_reader', 'logs',
	    $$ INSERT INTO seen SELECT id FROM logs WHERE id BETWEEN $1 AND $2 $$);
});
is($node->safe_psql('postgres', $partitions),
	'logs_default,logs_p0,logs_p100,logs_p200,logs_p300',
	'pg_partman made the partitions');

$node->safe_psql('postgres', q{SELECT incremental._maintain_stream('logs:retention')});
is($node->safe_psql('postgres', $partitions),
	'logs_default,logs_p200,logs_p300',
	'the retention dropped the two partitions the consumer processed');

# pg_partman goes on creating partitions ahead; the retention goes on dropping
$node->safe_psql(
	'postgres', q{
	SELECT partman.run_maintenance('public.logs');
	INSERT INTO logs (msg) SELECT 'm' FROM generate_series(1, 200);
	CALL incremental.execute_pipeline('log_reader');
	SELECT incremental._maintain_stream('logs:retention');
	SELECT partman.run_maintenance('public.logs');
});
is($node->safe_psql('postgres', $partitions),
	'logs_default,logs_p400,logs_p500,logs_p600,logs_p700',
	'pg_partman creates ahead, the retention drops what was processed');
is($node->safe_psql('postgres', 'SELECT count(*), max(id) FROM seen'),
	'450|450', 'every row was processed once');
is( $node->safe_psql(
		'postgres', q{SELECT retention || ' ' || partitions || ' ' || consumed_through
		FROM incremental.streams WHERE stream = 'logs'::regclass}),
	'consumed 4 450',
	'incremental.streams shows the table pg_partman partitions');

$node->stop;
done_testing();
