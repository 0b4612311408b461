# The scheduler runs every pipeline as its owner and never as anyone else,
# in a worker logged in as that owner.  Alice owns
# well-behaved pipelines; mallory, another non-superuser, tries to make
# the scheduler run SQL with more rights than her own: through the
# command, a function it calls, a list function, SET ROLE / SET SESSION
# AUTHORIZATION, a temporary object, or a function placed earlier in
# alice's search_path.  Also: neither may run, pause or reset another
# role's pipeline, nor write the catalog.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use lib "$FindBin::RealBin/../long";
use IncrementalTest;
use ExactlyOnce;

my $node = new_scheduler_node('privs');
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_incremental;
CREATE ROLE alice LOGIN;
CREATE ROLE mallory LOGIN;
CREATE TABLE who (tag text, cur text);
GRANT SELECT, INSERT ON who TO PUBLIC;
CREATE FUNCTION record_who(tag text) RETURNS void LANGUAGE sql SECURITY INVOKER
  AS $$ INSERT INTO public.who VALUES (tag, current_user) $$;
CREATE FUNCTION who_list(pattern text) RETURNS TABLE (path text) LANGUAGE plpgsql SECURITY INVOKER
  AS $$ BEGIN INSERT INTO public.who VALUES ('list:' || pattern, current_user); RETURN QUERY SELECT 'file-1'; END $$;
-- a schema earlier in alice's search_path that mallory may write to
CREATE SCHEMA shared;
GRANT USAGE, CREATE ON SCHEMA shared TO alice, mallory;
});

# time interval pipelines with 1-second intervals: due every second, no data needed
sub create_ticking
{
	my ($role, $name, $command, %opts) = @_;
	my $sp = $opts{search_path} // 'public';
	$node->safe_psql('postgres', qq{
SET ROLE $role; SET search_path = $sp;
SELECT incremental.create_time_interval_pipeline('$name', '1 second', \$cmd\$$command\$cmd\$,
  start_time => now(), min_delay => '0', schedule => '1 second', execute_immediately => false);});
}

sub wait_who
{
	my ($tag) = @_;
	$node->poll_query_until('postgres', "SELECT count(*) > 0 FROM who WHERE tag = '$tag'");
	return $node->safe_psql('postgres', "SELECT string_agg(DISTINCT cur, ',') FROM who WHERE tag = '$tag'");
}

sub wait_error
{
	my ($name) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM (SELECT DISTINCT ON (pipeline_name) pipeline_name, status AS last_run_status, error_message AS last_error, consecutive_failures, ended_at AS last_run_end, next_retry_at FROM incremental.pipeline_runs ORDER BY pipeline_name, run_id DESC) AS pipeline_run_state WHERE pipeline_name = '$name' AND last_run_status = 'failed'");
	return $node->safe_psql('postgres',
		"SELECT last_error FROM (SELECT DISTINCT ON (pipeline_name) pipeline_name, status AS last_run_status, error_message AS last_error, consecutive_failures, ended_at AS last_run_end, next_retry_at FROM incremental.pipeline_runs ORDER BY pipeline_name, run_id DESC) AS pipeline_run_state WHERE pipeline_name = '$name'");
}

# --- the command, a SECURITY INVOKER function it calls, a list function
create_ticking('alice', 'alice_cmd', q{SELECT record_who('alice_cmd') WHERE $1 < $2});
is(wait_who('alice_cmd'), 'alice', 'a function called by the command runs as the owner');
$node->safe_psql('postgres', q{SET ROLE alice;
SELECT incremental.create_file_list_pipeline('alice_files', 'pattern', $$SELECT record_who('alice_files')$$,
  list_function => 'public.who_list', schedule => '1 second', execute_immediately => false);});
is(wait_who('list:pattern'), 'alice', 'the list function runs as the owner');
is(wait_who('alice_files'), 'alice', 'and so does the file command');

# --- mallory reaches for more than her rights
my %attempts = (
	set_role => ['SET ROLE postgres', qr/cannot set parameter "role" within security-(?:restricted operation|definer function)|permission denied to set role/],
	set_local_role => [q{SELECT set_config('role', 'postgres', true)}, qr/cannot set parameter "role" within security-(?:restricted operation|definer function)|permission denied to set role/],
	set_session_auth => ['SET SESSION AUTHORIZATION postgres', qr/cannot set parameter "session_authorization" within security-(?:restricted operation|definer function)|permission denied to set session authorization/],
	reset_session_auth => ['RESET SESSION AUTHORIZATION', qr/cannot set parameter "session_authorization" within security-(?:restricted operation|definer function)/],
	role_in_function => [q{SELECT escalate()}, qr/cannot set parameter "role" within security-(?:restricted operation|definer function)|permission denied to set role/],
	temp_table => [q{SELECT make_temp()}, qr/cannot create temporary table within security-restricted operation/],
	read_file => [q{SELECT pg_read_file('postgresql.conf') WHERE $1 < $2}, qr/permission denied for function pg_read_file/],
	superuser_grant => [q{ALTER ROLE mallory SUPERUSER}, qr/permission denied|must be superuser/],
);
$node->safe_psql('postgres', q{
CREATE FUNCTION escalate() RETURNS void LANGUAGE plpgsql SECURITY INVOKER
  AS $$ BEGIN SET ROLE postgres; INSERT INTO public.who VALUES ('escalated', current_user); END $$;
CREATE FUNCTION make_temp() RETURNS void LANGUAGE plpgsql SECURITY INVOKER
  AS $$ BEGIN CREATE TEMP TABLE mallory_temp (x int); INSERT INTO public.who VALUES ('temp', current_user); END $$;
});
for my $name (sort keys %attempts)
{
	my ($command, $error) = @{ $attempts{$name} };
	create_ticking('mallory', "m_$name", $command);
}
for my $name (sort keys %attempts)
{
	like(wait_error("m_$name"), $attempts{$name}[1], "mallory: $attempts{$name}[0] fails under the scheduler");
}
my ($ret, $out, $err) = $node->psql('postgres', q{SET ROLE mallory;
SELECT incremental.create_file_list_pipeline('m_local_files', '/etc/*', $$SELECT record_who($1)$$,
  list_function => 'incremental.list_local_files', schedule => '1 second', execute_immediately => false);});
like($err, qr/permission denied for list function incremental\.list_local_files/,
	'mallory: a pipeline with the server-file list function, which she may not execute, is refused');

# --- a function placed earlier in alice's search_path runs as alice, not more
create_ticking('alice', 'alice_path', q{SELECT record_who('alice_path') WHERE $1 < $2},
	search_path => 'shared, public');
is(wait_who('alice_path'), 'alice', 'alice\'s pipeline with a shared schema in its search_path');
$node->safe_psql('postgres', q{SET ROLE mallory;
CREATE FUNCTION shared.record_who(tag text) RETURNS void LANGUAGE sql
  AS $$ INSERT INTO public.who VALUES ('hijack:' || tag, current_user) $$;});
is(wait_who('hijack:alice_path'), 'alice',
	'a function mallory slips into the search_path runs as the pipeline owner, never as the superuser');

# --- temporary objects cannot shadow names for the pipelines that run next
$node->safe_psql('postgres', q{
CREATE FUNCTION make_temp_func() RETURNS void LANGUAGE plpgsql
  AS $$ BEGIN EXECUTE 'CREATE FUNCTION pg_temp.record_who(tag text) RETURNS void LANGUAGE sql AS ''INSERT INTO public.who VALUES (''''tempfunc'''', current_user)'''; END $$;});
create_ticking('mallory', 'm_temp_func2', q{SELECT make_temp_func()});
# A temporary type is searched before pg_catalog: one planted in the
# worker's session would be used by the pipelines of other owners that run
# after it, and a CHECK of a domain runs its function as them.
$node->safe_psql('postgres', q{
CREATE FUNCTION steal(v int) RETURNS boolean LANGUAGE sql SECURITY INVOKER
  AS $$ INSERT INTO public.who VALUES ('stolen', current_user) RETURNING true $$;
CREATE FUNCTION plant_type() RETURNS void LANGUAGE plpgsql SECURITY INVOKER
  AS $$ BEGIN EXECUTE 'CREATE DOMAIN pg_temp.int4 AS pg_catalog.int4 CHECK (public.steal(VALUE))'; END $$;});
create_ticking('mallory', 'm_temp_type', q{SELECT plant_type() WHERE $1 < $2});
create_ticking('postgres', 'su_cmd', q{SELECT record_who('su_cmd') WHERE 1::int4 = 1 AND $1 < $2});
is(wait_who('su_cmd'), 'postgres', 'a superuser\'s pipeline runs as the superuser');
# give both pipelines a few rounds
$node->poll_query_until('postgres', "SELECT count(*) >= 3 FROM who WHERE tag = 'su_cmd'");
is($node->safe_psql('postgres', "SELECT count(*) FROM who WHERE tag = 'stolen'"), 0,
	'a temporary type planted by one owner never reaches another owner\'s pipeline');
is($node->safe_psql('postgres', "SELECT count(*) FROM who WHERE tag = 'tempfunc'"), 0,
	'nor does a temporary function');
$node->safe_psql('postgres', "SELECT incremental.drop_pipeline('su_cmd')");
# PostgreSQL lets a security-restricted operation create a temporary
# function (only tables and types are refused), so mallory's make_temp_func
# creates pg_temp.record_who in the worker's session at every run.
# Functions are never looked up in pg_temp, even when a search_path names it:
create_ticking('alice', 'alice_tmp', q{SELECT record_who('alice_tmp') WHERE $1 < $2},
	search_path => 'pg_temp, public');
is(wait_who('alice_tmp'), 'alice', 'a pipeline with pg_temp first in its search_path does not call the planted function');
is($node->safe_psql('postgres', "SELECT count(*) FROM who WHERE tag = 'tempfunc'"), 0,
	'the planted temporary function never ran');
# nor is it there for a pipeline that names it: the worker drops its
# temporary objects at the end of every transaction
$node->safe_psql('postgres', q{
CREATE FUNCTION call_temp() RETURNS void LANGUAGE plpgsql SECURITY INVOKER AS $$
BEGIN
  EXECUTE 'SELECT pg_temp.record_who(''explicit'')';
EXCEPTION WHEN undefined_function OR invalid_schema_name THEN
  INSERT INTO public.who VALUES ('no_temp_func', current_user);
END $$;});
create_ticking('alice', 'alice_explicit', q{SELECT call_temp() WHERE $1 < $2});
is(wait_who('no_temp_func'), 'alice',
	'a temporary function created by one pipeline is gone for the next, even called by name');
is($node->safe_psql('postgres', "SELECT count(*) FROM who WHERE tag = 'tempfunc'"), 0,
	'and never ran');
$node->safe_psql('postgres', 'TRUNCATE who');
is(wait_who('alice_cmd'), 'alice', 'alice\'s pipelines still run as alice afterwards');

is($node->safe_psql('postgres', "SELECT count(*) FROM who WHERE cur NOT IN ('alice', 'mallory') AND tag <> 'su_cmd'"), 0,
	'nothing ever ran as the superuser');
is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"), 'f',
	'mallory is still not a superuser');
is($node->safe_psql('postgres', "SELECT count(*) FROM who WHERE tag IN ('escalated', 'temp', 'tempfunc')"), 0,
	'no escalation attempt got as far as writing');

# --- other roles' pipelines and the catalog
for my $call (
	[q{CALL incremental.execute_pipeline('alice_cmd')}, 'run'],
	[q{SELECT incremental.pause_pipeline('alice_cmd')}, 'pause'],
	[q{SELECT incremental.reset_pipeline('alice_cmd')}, 'reset'],
	[q{SELECT incremental.drop_pipeline('alice_cmd')}, 'drop'],
	[q{UPDATE incremental.pipelines SET owner_id = 'postgres' WHERE pipeline_name = 'm_set_role'}, 'change the owner of her pipeline in'],
	[q{UPDATE incremental.pipelines SET command = 'SELECT 1' WHERE pipeline_name = 'alice_cmd'}, 'rewrite a command in'],
	[q{INSERT INTO incremental.pipelines (pipeline_name, pipeline_type, owner_id, command) VALUES ('forged', 't', 'postgres', 'SELECT 1')}, 'insert into'],
	[q{DELETE FROM incremental.processed_files}, 'delete from'],
	[q{UPDATE incremental.pipeline_runs SET next_retry_at = NULL}, 'update'],
	[q{UPDATE incremental.time_interval_pipelines SET last_processed_time = NULL}, 'move the progress in'])
{
	my ($sql, $what) = @$call;
	my ($ret, $out, $err) = $node->psql('postgres', "SET ROLE mallory; $sql");
	like($err, qr/permission denied|must be owner|insufficient|not allowed/,
		"mallory cannot $what " . ($what =~ /in$|into$|from$|update$/ ? 'the catalog' : 'alice\'s pipeline'));
}
is($node->safe_psql('postgres', "SELECT owner_id FROM incremental.pipelines WHERE pipeline_name = 'm_set_role'"),
	'mallory', 'the catalog is unchanged');
is(server_log_crashes($node), 0, 'no process crashed');
$node->stop;
done_testing();
