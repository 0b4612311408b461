# Continuous views under concurrent writers, compared with their own query.
#
# One source table (NULL keys and values, late timestamps) and sixteen
# continuous views that together use every supported aggregate, FILTER,
# count(DISTINCT) (hll and exact), percentiles, HAVING and expressions over
# aggregates, no GROUP BY, NULL group keys, lookup joins and real-time reads.  The views
# run every second in small batches, so that each group is merged from many
# batches.  pgbench clients insert for INCREMENTAL_CV_SECONDS (25): single
# rows, multi-row inserts, old timestamps with new ids, multi-statement
# transactions, rolled back transactions and subtransactions; a session of
# the test holds transactions open across runs, a real-time view is paused
# and resumed, and manual runs compete with the scheduler.
#
# Meanwhile the real-time views are compared with their query in the same
# REPEATABLE READ snapshot.  Once every pipeline has caught up, every view
# is compared with its query run on the source, group by group (keys joined
# with IS NOT DISTINCT FROM): exact aggregates equal, float ones within
# 1e-9 relative, numeric stddev within 1e-12, count(DISTINCT) exact, or
# within 3 standard errors of hll (exact below 100), percentiles between
# the direct percentiles at p - 0.05 and p + 0.05 (a group of about a
# hundred rows whose t-digest merged some sixty batches once fell just
# outside +/- 0.03).  Mismatching groups are printed.  Last, DROP VIEW of
# two views removes their storage, side tables and pipelines.
#
# Randomized: INCREMENTAL_CV_SEED reproduces the parameters (numbers of
# keys, NULL and late fractions, batch sizes, thresholds), not the
# interleaving of the writers.
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

my $seconds = $ENV{INCREMENTAL_CV_SECONDS} // 25;
my $seed = $ENV{INCREMENTAL_CV_SEED} // int(rand(1 << 30));
srand($seed);
diag("seed $seed (INCREMENTAL_CV_SEED reproduces the parameters)");

my $node = new_scheduler_node('cv', extra_conf => "timezone = 'UTC'\n");

my $missing = $node->safe_psql('postgres',
	"SELECT string_agg(n, ', ') FROM unnest(ARRAY['hll', 'tdigest']) n WHERE n NOT IN (SELECT name FROM pg_available_extensions)"
);
if ($missing ne '')
{
	$node->stop;
	plan skip_all => "extensions not available: $missing";
}

# --- the parameters of this run
my $nk = 3 + int(rand(8));              # text keys k0.. (plus '' and NULL)
my $ng = 3 + int(rand(6));              # int keys 0.., skewed (plus NULL)
my $p_null = sprintf('%.3f', 0.05 + rand(0.15));
my $p_late = sprintf('%.3f', 0.05 + rand(0.2));
my $min_n = 10 + int(rand(40));         # HAVING count(*) > this
sub batch { return 200 + int(rand(400)) }
diag("$nk text keys, $ng int keys, NULL fraction $p_null, late fraction $p_late, HAVING count(*) > $min_n");

$node->safe_psql(
	'postgres', qq{
CREATE EXTENSION hll;
CREATE EXTENSION tdigest;
CREATE EXTENSION pg_incremental;
CREATE TABLE ev (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	k text,
	g int,
	vi int,
	vb bigint,
	vn numeric,
	vf float8,
	vbool boolean);
-- every int key but the last has a label; several keys share one
CREATE TABLE lk (g int PRIMARY KEY, label text NOT NULL, weight int NOT NULL);
INSERT INTO lk SELECT g, 'label' || (g % 3), 1 + g % 4 FROM generate_series(0, $ng - 2) g;

CREATE SCHEMA cvt;
-- n random rows; late: stamped up to 30 days ago
CREATE FUNCTION cvt.rows(n int, late boolean DEFAULT false)
RETURNS TABLE (at timestamptz, k text, g int, vi int, vb bigint, vn numeric, vf float8, vbool boolean)
LANGUAGE sql VOLATILE AS \$\$
SELECT CASE WHEN late OR random() < $p_late / 10 THEN now() - random() * interval '30 days' ELSE now() END,
       CASE WHEN random() < $p_null THEN NULL WHEN random() < 0.05 THEN '' ELSE 'k' || floor(random() * $nk)::int END,
       CASE WHEN random() < $p_null THEN NULL ELSE floor($ng * random() ^ 2)::int END,
       CASE WHEN random() < $p_null THEN NULL
            WHEN random() < 0.005 THEN 2147483647
            WHEN random() < 0.005 THEN -2147483648
            ELSE floor(random() * 2001 - 1000)::int END,
       CASE WHEN random() < $p_null THEN NULL
            WHEN random() < 0.02 THEN (random() * 9e15 - 4.5e15)::bigint
            ELSE floor(random() * 1000000)::bigint - 1000 END,
       CASE WHEN random() < $p_null THEN NULL
            ELSE round((random() * 2000 - 500)::numeric, floor(random() * 5)::int) END,
       CASE WHEN random() < $p_null THEN NULL
            WHEN random() < 0.02 THEN 0
            WHEN random() < 0.01 THEN '-0'::float8
            ELSE random() * 1000 - 100 END,
       CASE WHEN random() < $p_null THEN NULL ELSE random() < 0.6 END
FROM generate_series(1, n)
\$\$;

-- tolerances; NULL only matches NULL
CREATE FUNCTION cvt.close_f(a float8, b float8, tol float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS \$\$
SELECT CASE WHEN a IS NULL OR b IS NULL THEN a IS NULL AND b IS NULL
            ELSE a = b OR abs(a - b) <= tol * greatest(abs(a), abs(b), 1e-6) END \$\$;
CREATE FUNCTION cvt.close_n(a numeric, b numeric, tol numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS \$\$
SELECT CASE WHEN a IS NULL OR b IS NULL THEN a IS NULL AND b IS NULL
            ELSE a = b OR abs(a - b) <= tol * greatest(abs(a), abs(b), 1e-6) END \$\$;
-- hll: exact for small sets, else within 3 standard errors (2.3% each)
CREATE FUNCTION cvt.distinct_ok(v bigint, d bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS \$\$
SELECT CASE WHEN v IS NULL OR d IS NULL THEN v IS NULL AND d IS NULL
            WHEN d <= 100 THEN v = d
            ELSE abs(v - d) <= 3 * 0.023 * d END \$\$;
CREATE FUNCTION cvt.in_band(v float8, lo float8, hi float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS \$\$
SELECT CASE WHEN v IS NULL OR lo IS NULL OR hi IS NULL THEN v IS NULL AND lo IS NULL AND hi IS NULL
            ELSE v >= lo - 1e-9 * abs(lo) AND v <= hi + 1e-9 * abs(hi) END \$\$;
CREATE FUNCTION cvt.in_bands(v float8[], lo float8[], hi float8[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS \$\$
SELECT CASE WHEN v IS NULL OR lo IS NULL OR hi IS NULL THEN v IS NULL AND lo IS NULL AND hi IS NULL
            ELSE cardinality(v) = cardinality(lo) AND cardinality(v) = cardinality(hi)
                 AND (SELECT bool_and(cvt.in_band(v[i], lo[i], hi[i])) FROM generate_subscripts(v, 1) i) END \$\$;
CREATE FUNCTION cvt.least_a(a float8[], b float8[]) RETURNS float8[] LANGUAGE sql IMMUTABLE AS \$\$
SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
            ELSE ARRAY(SELECT least(a[i], b[i]) FROM generate_subscripts(a, 1) i ORDER BY i) END \$\$;
CREATE FUNCTION cvt.greatest_a(a float8[], b float8[]) RETURNS float8[] LANGUAGE sql IMMUTABLE AS \$\$
SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
            ELSE ARRAY(SELECT greatest(a[i], b[i]) FROM generate_subscripts(a, 1) i ORDER BY i) END \$\$;
});

# The band a percentile p of $expr must lie in: between the direct
# percentiles (continuous and discrete) at p - 0.05 and p + 0.05.  $p is a
# number or an array reference.  Returns the SQL of the columns
# ${col}__lo and ${col}__hi.
sub band
{
	my ($col, $p, $expr, $filter) = @_;
	my $f = $filter ? " FILTER (WHERE $filter)" : '';
	my $clamp = sub { my $x = shift; $x < 0 ? 0 : $x > 1 ? 1 : $x };
	my @ps = ref $p ? @$p : ($p);
	my ($lo, $hi) = map {
		my $d = $_;
		my @q = map { sprintf('%.2f', $clamp->($_ + $d)) } @ps;
		ref $p ? 'ARRAY[' . join(', ', @q) . ']::float8[]' : "$q[0]::float8";
	} (-0.05, 0.05);
	my $agg = sub {
		my ($kind, $ps) = @_;
		return "percentile_$kind($ps) WITHIN GROUP (ORDER BY ($expr)::float8)$f";
	};
	return ref $p
	  ? "cvt.least_a(" . $agg->('cont', $lo) . ', ' . $agg->('disc', $lo) . ") AS ${col}__lo, "
	  . "cvt.greatest_a(" . $agg->('cont', $hi) . ', ' . $agg->('disc', $hi) . ") AS ${col}__hi"
	  : "least(" . $agg->('cont', $lo) . ', ' . $agg->('disc', $lo) . ") AS ${col}__lo, "
	  . "greatest(" . $agg->('cont', $hi) . ', ' . $agg->('disc', $hi) . ") AS ${col}__hi";
}

# --- the continuous views.  Each: its name, how it is created, the view
# side and the direct side of the comparison, the group keys, and how each
# column is compared: exact, float (1e-9), num12 (numeric, 1e-12),
# distinct (hll), pct / pcts (percentile(s) in the band of band()).
my $ddl = sub {
	my ($name, $query, @opts) = @_;
	my $options = join(', ',
		'incremental.continuous', "incremental.schedule = '1 second'",
		'incremental.max_batch_size = ' . batch(), @opts);
	return "CREATE VIEW $name WITH ($options) AS $query";
};
my $fn = sub {
	my ($name, $query, @opts) = @_;
	return "SELECT incremental.create_continuous_view('$name', \$q\$$query\$q\$, schedule => '1 second', max_batch_size => "
	  . batch()
	  . join('', map { ", $_" } @opts) . ')';
};

my @views;

my $q_basic = q{SELECT k, g, count(*) AS n, count(vi) AS n_vi, sum(vi) AS s_i, sum(vb) AS s_b, sum(vn) AS s_n,
  sum(vf) AS s_f, min(vi) AS min_i, max(vi) AS max_i, min(vb) AS min_b, max(vb) AS max_b, min(vn) AS min_n,
  max(vn) AS max_n, min(vf) AS min_f, max(vf) AS max_f, min(at) AS first_at, max(at) AS last_at,
  min(vbool::int) AS min_bool, avg(vi) AS avg_i, avg(vb) AS avg_b, avg(vn) AS avg_n, avg(vf) AS avg_f,
  count(*) FILTER (WHERE vbool) AS n_true, sum(vn) FILTER (WHERE vi > 0) AS s_n_pos,
  avg(vi) FILTER (WHERE vbool IS NULL) AS avg_i_nobool, max(vf) FILTER (WHERE vi < 0) AS max_f_neg,
  sum(vf) FILTER (WHERE vbool) AS s_f_true, min(vn) FILTER (WHERE k = '') AS min_n_empty
FROM ev GROUP BY k, g};
push @views, {
	name => 'cv_basic',
	create => $ddl->('cv_basic', $q_basic),
	direct => $q_basic,
	keys => [qw(k g)],
	float => [qw(s_f avg_f s_f_true)],
};

my $q_var = q{SELECT g, variance(vi) AS var_i, var_samp(vb) AS vs_b, var_pop(vn) AS vp_n, var_samp(vn) AS vs_n,
  var_pop(vi) AS vp_i, variance(vn) FILTER (WHERE vbool) AS var_n_t,
  stddev(vn) AS sd_n, stddev_samp(vi) AS sds_i, stddev_pop(vb) AS sdp_b, stddev_pop(vn) AS sdp_n,
  variance(vf) AS var_f, var_samp(vf) AS vs_f, var_pop(vf) AS vp_f, stddev(vf) AS sd_f,
  stddev_samp(vf) AS sds_f, stddev_pop(vf) FILTER (WHERE vi > 0) AS sdp_f_pos,
  min(k) AS min_k, max(k) AS max_k
FROM ev GROUP BY g};
push @views, {
	name => 'cv_var',
	create => $fn->('cv_var', $q_var),
	direct => $q_var,
	keys => [qw(g)],
	num12 => [qw(sd_n sds_i sdp_b sdp_n)],
	float => [qw(var_f vs_f vp_f sd_f sds_f sdp_f_pos)],
};

my $q_bool = q{SELECT k, bool_and(vbool) AS b_and, bool_or(vbool) AS b_or, every(vi > 0) AS all_pos,
  bool_or(vf < 0) FILTER (WHERE g = 0) AS neg_f_g0, bit_and(vi) AS bits_and_i, bit_or(vi) AS bits_or_i,
  bit_and(vb) AS bits_and_b, bit_or(vb) FILTER (WHERE vbool) AS bits_or_b_t,
  min(DISTINCT vi) AS min_d_i, max(DISTINCT vn) AS max_d_n, bool_and(DISTINCT vbool) AS b_and_d,
  bit_or(DISTINCT g) AS bits_or_g
FROM ev GROUP BY k};
push @views, {
	name => 'cv_bool',
	create => $ddl->('cv_bool', $q_bool),
	direct => $q_bool,
	keys => [qw(k)],
};

my $q_regr = q{SELECT g, regr_count(vf, vi) AS rc, regr_sxx(vf, vi) AS sxx, regr_syy(vf, vi) AS syy,
  regr_sxy(vf, vi) AS sxy, regr_avgx(vf, vi) AS avgx, regr_avgy(vf, vi) AS avgy, regr_slope(vf, vi) AS slope,
  regr_intercept(vf, vi) AS icpt, regr_r2(vf, vi) AS r2, corr(vf, vn) AS corr_fn, covar_pop(vf, vb) AS cov_p,
  covar_samp(vi, vn) AS cov_s, regr_count(vn, vb) FILTER (WHERE vbool) AS rc_t,
  corr(vi, vb) FILTER (WHERE k IS NOT NULL) AS corr_ib
FROM ev GROUP BY g};
push @views, {
	name => 'cv_regr',
	create => $fn->('cv_regr', $q_regr),
	direct => $q_regr,
	keys => [qw(g)],
	float => [qw(sxx syy sxy avgx avgy slope icpt r2 corr_fn cov_p cov_s corr_ib)],
};

push @views, {
	name => 'cv_distinct',
	create => $ddl->(
		'cv_distinct', q{SELECT g, count(DISTINCT k) AS d_k, count(DISTINCT vi) AS d_i,
  count(DISTINCT vn) FILTER (WHERE vbool) AS d_n_t, count(DISTINCT vf) AS d_f, count(DISTINCT vb) AS d_b,
  count(DISTINCT vi / 10) AS d_i10, count(DISTINCT round(vn)) AS d_n_round, hll_add_agg(hll_hash_integer(vi)) AS h_i,
  hll_union_agg(hll_add(hll_empty(), hll_hash_bigint(vb))) AS h_b, tdigest(vf, 100) AS td_f,
  tdigest(tdigest_add(NULL::tdigest, vi, 100)) FILTER (WHERE vi IS NOT NULL) AS td_i
FROM ev GROUP BY g}, "incremental.distinct = 'hll'"),
	view => q{SELECT g, d_k, d_i, d_n_t, d_f, d_b, d_i10, d_n_round, hll_cardinality(h_i) AS h_i, hll_cardinality(h_b) AS h_b,
  coalesce(tdigest_count(td_f), 0) AS td_n,
  (SELECT tdigest_percentile(t.d, 0.5) FROM (VALUES (td_f)) t(d)) AS td_med,
  coalesce(tdigest_count(td_i), 0) AS td_i_n,
  (SELECT tdigest_percentile(t.d, 0.9) FROM (VALUES (td_i)) t(d)) AS td_i_p90 FROM cv_distinct},
	direct => q{SELECT g, count(DISTINCT k) AS d_k, count(DISTINCT vi) AS d_i,
  count(DISTINCT vn) FILTER (WHERE vbool) AS d_n_t, count(DISTINCT vf) AS d_f, count(DISTINCT vb) AS d_b,
  count(DISTINCT vi / 10) AS d_i10, count(DISTINCT round(vn)) AS d_n_round, hll_cardinality(hll_add_agg(hll_hash_integer(vi))) AS h_i,
  hll_cardinality(hll_union_agg(hll_add(hll_empty(), hll_hash_bigint(vb)))) AS h_b, count(vf) AS td_n, count(vi) AS td_i_n, }
	  . band('td_med', 0.5, 'vf') . ', '
	  . band('td_i_p90', 0.9, 'vi') . q{ FROM ev GROUP BY g},
	keys => [qw(g)],
	distinct => [qw(d_k d_i d_n_t d_f d_b d_i10 d_n_round)],
	float => [qw(h_i h_b)],
	pct => [qw(td_med td_i_p90)],
};

# count(DISTINCT) of types whose hash function is declared for another type
my $q_dmore = q{SELECT k, count(DISTINCT at) AS d_at, count(DISTINCT vbool) AS d_bool,
  count(DISTINCT (at AT TIME ZONE 'UTC')::date) AS d_day
FROM ev GROUP BY k};
push @views, {
	name => 'cv_distinct_types',
	create => $fn->('cv_distinct_types', $q_dmore),
	direct => $q_dmore,
	keys => [qw(k)],
	distinct => [qw(d_at d_bool d_day)],
};

# exact distinct counts: the values seen are kept in side tables
my $q_dexact = q{SELECT g, count(*) AS n, count(DISTINCT k) AS d_k, count(DISTINCT vi) AS d_i,
  count(DISTINCT vn) FILTER (WHERE vbool) AS d_n_t, count(DISTINCT vf) AS d_f, count(DISTINCT at) AS d_at,
  count(DISTINCT vbool) AS d_bool, count(DISTINCT vi / 100) FILTER (WHERE k IS NULL) AS d_i100_nok,
  count(DISTINCT round(vn)) AS d_n_round
FROM ev GROUP BY g};
push @views, {
	name => 'cv_distinct_exact',
	create => $fn->('cv_distinct_exact', $q_dexact, q{"distinct" => 'exact'}),
	direct => $q_dexact,
	keys => [qw(g)],
};

push @views, {
	name => 'cv_pct',
	create => $ddl->(
		'cv_pct', q{SELECT g IS NULL AS g_null, k, count(*) AS n,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY vf) AS med_f,
  percentile_disc(0.9) WITHIN GROUP (ORDER BY vi) AS p90_i,
  percentile_cont(ARRAY[0.1, 0.5, 0.95]) WITHIN GROUP (ORDER BY vn) AS ps_n,
  percentile_disc(ARRAY[0.25, 0.75]) WITHIN GROUP (ORDER BY vb) AS pd_b,
  percentile_cont(0.99) WITHIN GROUP (ORDER BY vi) FILTER (WHERE vbool) AS p99_i_t,
  percentile_disc(0.05) WITHIN GROUP (ORDER BY vn) FILTER (WHERE vi > 0) AS p05_n_pos
FROM ev GROUP BY g IS NULL, k}),
	view => q{SELECT g_null, k, n, med_f, p90_i, ps_n, pd_b::float8[] AS pd_b, p99_i_t, p05_n_pos FROM cv_pct},
	direct => 'SELECT g IS NULL AS g_null, k, count(*) AS n, '
	  . join(', ',
		band('med_f', 0.5, 'vf'),
		band('p90_i', 0.9, 'vi'),
		band('ps_n', [ 0.1, 0.5, 0.95 ], 'vn'),
		band('pd_b', [ 0.25, 0.75 ], 'vb'),
		band('p99_i_t', 0.99, 'vi', 'vbool'),
		band('p05_n_pos', 0.05, 'vn', 'vi > 0'))
	  . ' FROM ev GROUP BY g IS NULL, k',
	keys => [qw(g_null k)],
	pct => [qw(med_f p90_i p99_i_t p05_n_pos)],
	pcts => [qw(ps_n pd_b)],
};

my $q_total_head = q{SELECT count(*) AS n, count(k) AS n_k, count(g) AS n_g, sum(vi) AS s_i, sum(vn) AS s_n,
  sum(vb) AS s_b, avg(vb) AS avg_b, avg(vn) AS avg_n, min(at) AS first_at, max(at) AS last_at,
  max(id) AS max_id, min(id) AS min_id, count(DISTINCT g) AS d_g, count(DISTINCT k) AS d_k,
  stddev(vn) AS sd_n, var_pop(vf) AS vp_f, bool_or(vbool) AS any_true, every(vi IS NOT NULL) AS all_vi,
  regr_count(vf, vi) AS rc, corr(vf, vi) AS c, sum(vf) AS s_f, };
push @views, {
	name => 'cv_total',
	create => $fn->(
		'cv_total', $q_total_head . 'percentile_cont(0.5) WITHIN GROUP (ORDER BY vf) AS med_f FROM ev'),
	direct => $q_total_head . band('med_f', 0.5, 'vf') . ' FROM ev',
	keys => [],
	distinct => [qw(d_g d_k)],
	num12 => [qw(sd_n)],
	float => [qw(vp_f c s_f)],
	pct => [qw(med_f)],
};

my $q_having = qq{SELECT g, k IS NULL AS no_k, count(*) AS n, sum(vi) / count(*) AS mean_i,
  max(vi)::bigint - min(vi) AS range_i, round(avg(vn), 2) AS avg_n2,
  100.0 * count(*) FILTER (WHERE vbool) / count(*) AS pct_true, sum(vf) / nullif(count(vf), 0) + 1 AS mean_f1,
  coalesce(sum(vn), 0) * 2 - count(DISTINCT k) AS mixed, stddev(vn) > 500 AS spread
FROM ev GROUP BY g, k IS NULL HAVING count(*) > $min_n AND sum(vi) > 0};
push @views, {
	name => 'cv_having',
	create => $fn->('cv_having', $q_having),
	direct => $q_having,
	keys => [qw(g no_k)],
	float => [qw(mean_f1)],
};

my $q_join = q{SELECT l.label, date_trunc('day', e.at, 'UTC') AS day, count(*) AS n, sum(e.vn * l.weight) AS w_sum,
  avg(e.vi::bigint + l.weight) AS avg_iw, max(e.vf) AS max_f, count(DISTINCT e.k) AS d_k, min(l.g) AS min_g
FROM ev e JOIN lk l ON l.g = e.g GROUP BY l.label, date_trunc('day', e.at, 'UTC')};
push @views, {
	name => 'cv_join',
	create => $ddl->('cv_join', $q_join),
	direct => $q_join,
	keys => [qw(label day)],
	distinct => [qw(d_k)],
};

my $q_ljoin = q{SELECT l.label, e.g IS NULL AS no_g, count(*) AS n, count(l.g) AS matched, sum(e.vi) AS s_i,
  avg(l.weight) AS avg_w
FROM ev e LEFT JOIN lk l ON l.g = e.g GROUP BY l.label, e.g IS NULL};
push @views, {
	name => 'cv_ljoin',
	create => $fn->('cv_ljoin', $q_ljoin),
	direct => $q_ljoin,
	keys => [qw(label no_g)],
};

# real-time views
my $q_rt_head = q{SELECT k, count(*) AS n, sum(vi) AS s_i, sum(vn) AS s_n, avg(vn) AS avg_n, min(vf) AS min_f,
  max(at) AS last_at, sum(vf) AS s_f, stddev(vf) AS sd_f, var_samp(vn) AS vs_n, count(DISTINCT g) AS d_g,
  bool_or(vbool) AS any_true, corr(vf, vi) AS c, count(*) FILTER (WHERE vi IS NULL) AS n_null_i,
  bit_or(vi) AS bits, stddev_pop(vi) AS sdp_i, };
push @views, {
	name => 'cv_rt',
	create => $ddl->(
		'cv_rt',
		$q_rt_head . 'percentile_cont(0.5) WITHIN GROUP (ORDER BY vf) AS med_f FROM ev GROUP BY k',
		'incremental.realtime'),
	direct => $q_rt_head . band('med_f', 0.5, 'vf') . ' FROM ev GROUP BY k',
	keys => [qw(k)],
	float => [qw(s_f sd_f c)],
	num12 => [qw(sdp_i)],
	distinct => [qw(d_g)],
	pct => [qw(med_f)],
	realtime => 1,
};

my $q_rt_total = q{SELECT count(*) AS n, sum(vb) AS s_b, max(id) AS max_id, avg(vi) AS avg_i,
  count(DISTINCT k) AS d_k, variance(vn) AS var_n, regr_slope(vf, vi) AS slope, min(vn) AS min_n,
  count(*) FILTER (WHERE vf > 500) AS n_big
FROM ev};
push @views, {
	name => 'cv_rt_total',
	create => $fn->('cv_rt_total', $q_rt_total, 'realtime => true'),
	direct => $q_rt_total,
	keys => [],
	distinct => [qw(d_k)],
	float => [qw(slope)],
	realtime => 1,
};

my $q_rt_having = q{SELECT g, k IS NULL AS no_k, count(*) AS n, sum(vi) AS s_i, max(vn) - min(vn) AS range_n,
  avg(vi) FILTER (WHERE vbool) AS avg_i_t
FROM ev GROUP BY g, k IS NULL HAVING sum(vi) > 0 OR g IS NULL};
push @views, {
	name => 'cv_rt_having',
	create => $ddl->('cv_rt_having', $q_rt_having, 'incremental.realtime = true'),
	direct => $q_rt_having,
	keys => [qw(g no_k)],
	realtime => 1,
};

my $q_rt_exact = q{SELECT k, count(*) AS n, count(DISTINCT g) AS d_g, count(DISTINCT vi) FILTER (WHERE vi > 0) AS d_i_pos,
  count(DISTINCT vn) AS d_n, sum(vi) AS s_i
FROM ev GROUP BY k};
push @views, {
	name => 'cv_rt_exact',
	create => $ddl->('cv_rt_exact', $q_rt_exact, 'incremental.realtime', "incremental.distinct = 'exact'"),
	direct => $q_rt_exact,
	keys => [qw(k)],
	realtime => 1,
};

my %created;
for my $v (@views)
{
	my ($out, $err) = ('', '');
	my $ret = $node->psql('postgres', $v->{create}, stdout => \$out, stderr => \$err, on_error_stop => 1);
	$created{ $v->{name} } = $ret == 0;
	ok($ret == 0, "$v->{name} is created") or diag($err);
}

# every column not named in a tolerance list is compared exactly; each
# check gives NULL or what differs
sub checks
{
	my ($v, $cols) = @_;
	my %kind;
	for my $kind (qw(float num12 distinct pct pcts))
	{
		$kind{$_} = $kind for @{ $v->{$kind} // [] };
	}
	my @checks;
	for my $col (@$cols)
	{
		next if grep { $_ eq $col } @{ $v->{keys} };
		my $kind = $kind{$col} // 'exact';
		my $check =
			$kind eq 'exact' ? "v.$col IS NOT DISTINCT FROM d.$col"
		  : $kind eq 'float' ? "cvt.close_f(v.$col, d.$col, 1e-9)"
		  : $kind eq 'num12' ? "cvt.close_n(v.$col, d.$col, 1e-12)"
		  : $kind eq 'distinct' ? "cvt.distinct_ok(v.$col, d.$col)"
		  : $kind eq 'pct' ? "cvt.in_band(v.$col, d.${col}__lo, d.${col}__hi)"
		  : "cvt.in_bands(v.$col, d.${col}__lo, d.${col}__hi)";
		my $detail =
		  $kind =~ /^pct/
		  ? "format('%s: view %L, direct from %L to %L', '$col', v.$col, d.${col}__lo, d.${col}__hi)"
		  : "format('%s: view %L, direct %L', '$col', v.$col, d.$col)";
		push @checks, "CASE WHEN coalesce($check, false) THEN NULL ELSE $detail END";
	}
	return @checks;
}

# the columns of the view side of the comparison
my %columns;
sub view_columns
{
	my ($v) = @_;
	my $view = $v->{view} // "SELECT * FROM $v->{name}";
	$columns{ $v->{name} } //= [
		split /\n/,
		$node->safe_psql('postgres', qq{CREATE TEMP VIEW view_side AS $view;
SELECT attname FROM pg_attribute WHERE attrelid = 'view_side'::regclass AND attnum > 0 ORDER BY attnum})
	];
	return $columns{ $v->{name} };
}

# SQL that returns 'groups|view groups|direct groups', then one 'bad|...'
# line per mismatching group, in one REPEATABLE READ snapshot
sub compare_sql
{
	my ($v) = @_;
	my $view = $v->{view} // "SELECT * FROM $v->{name}";
	my $direct = $v->{direct};
	my @keys = @{ $v->{keys} };
	my $on = @keys ? join(' AND ', map { "v.$_ IS NOT DISTINCT FROM d.$_" } @keys) : 'true';
	my $vkeys = 'jsonb_build_object(' . join(', ', map { "'$_', v.$_" } @keys) . ')::text';
	my $dkeys = 'jsonb_build_object(' . join(', ', map { "'$_', d.$_" } @keys) . ')::text';
	my $bad = 'array_to_string(ARRAY[' . join(', ', checks($v, view_columns($v))) . "], '; ')";
	return qq{BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT 'groups', (SELECT count(*) FROM ($view) v), (SELECT count(*) FROM ($direct) d);
WITH v AS MATERIALIZED ($view),
     d AS MATERIALIZED (SELECT true AS "found?", * FROM ($direct) d)
SELECT 'bad', x.problem, x.keys, x.detail FROM (
  SELECT CASE WHEN d."found?" IS NULL THEN 'group only in the view' ELSE 'group differs' END AS problem,
         $vkeys AS keys,
         CASE WHEN d."found?" IS NULL THEN to_jsonb(v)::text ELSE $bad END AS detail
  FROM v LEFT JOIN d ON $on
  UNION ALL
  SELECT 'group only in the direct query', $dkeys, to_jsonb(d)::text
  FROM d WHERE NOT EXISTS (SELECT FROM v WHERE $on)) x
WHERE x.problem <> 'group differs' OR x.detail <> '';
COMMIT;};
}

# (view groups, direct groups, mismatch lines)
sub compare_view
{
	my ($v) = @_;
	my $out = $node->safe_psql('postgres', compare_sql($v));
	my ($groups) = grep { /^groups\|/ } split /\n/, $out;
	my (undef, $vg, $dg) = split /\|/, $groups;
	my @bad = map { s/^bad\|//r } grep { /^bad\|/ } split /\n/, $out;
	return ($vg, $dg, @bad);
}

sub report
{
	my ($name, @bad) = @_;
	diag("$name: " . scalar(@bad) . ' mismatching groups') if @bad;
	diag("  $_") for @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ];
}

# --- the writers
my $dir = PostgreSQL::Test::Utils::tempdir;
my $cols = 'INSERT INTO ev (at, k, g, vi, vb, vn, vf, vbool)';
my %scripts = (
	single => "$cols SELECT * FROM cvt.rows(1);\n",
	multi => "\\set n random(2, 25)\n$cols SELECT * FROM cvt.rows(:n);\n",
	late => "\\set n random(1, 10)\n$cols SELECT * FROM cvt.rows(:n, true);\n",
	values => qq{\\set v random(-1000, 1000)
\\set nv 0 - :v
\\set g random(0, $ng)
BEGIN;
$cols SELECT * FROM cvt.rows(3);
INSERT INTO ev (k, g, vi, vn, vbool) VALUES ('k1', :g, :v, :v / 8.0, true), (NULL, NULL, NULL, NULL, NULL),
  ('', :g, :nv, :v / 4.0, false), ('k0', NULL, :v, :nv * 0.001, NULL);
INSERT INTO ev (at, vf) VALUES (now() - interval '3 days', :v * 0.5), (now(), NULL);
COMMIT;
},
	rollback => qq{\\set n random(1, 20)
BEGIN;
$cols SELECT * FROM cvt.rows(:n);
ROLLBACK;
},
	savepoint => qq{\\set n random(1, 10)
BEGIN;
$cols SELECT * FROM cvt.rows(:n);
SAVEPOINT s;
$cols SELECT * FROM cvt.rows(:n, true);
ROLLBACK TO SAVEPOINT s;
$cols SELECT * FROM cvt.rows(2);
COMMIT;
});
my %weights = (single => 3, multi => 3, late => 1, values => 2, rollback => 1 + int(rand(2)), savepoint => 1);
my @files;
for my $s (sort keys %scripts)
{
	PostgreSQL::Test::Utils::append_to_file("$dir/$s.sql", $scripts{$s});
	push @files, '-f', "$dir/$s.sql\@$weights{$s}";
}
my $pgbench_log = "$dir/pgbench.log";
my $pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', 3, '-j', 2, '-T', $seconds, '-R', 80, '--random-seed', $seed, @files,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', $pgbench_log, '2>&1');

# a session of the test holds transactions open across several runs
my $holder = $node->background_psql('postgres');
my $held = 0;
my $start = time();
my (%samples, %sample_failures, %samples_unprocessed);
my ($paused, $resumed, $manual_runs, $held_txns) = (0, 0, 0, 0);
my @realtime = grep { $_->{realtime} && $created{ $_->{name} } } @views;
my @scheduled = grep { $created{ $_->{name} } } @views;

while (time() - $start < $seconds)
{
	my $elapsed = time() - $start;

	if ($held)
	{
		# commit (or roll back) after a few rounds
		$holder->query_safe(rand() < 0.8 ? 'COMMIT' : 'ROLLBACK') if --$held == 0;
	}
	elsif (rand() < 0.4)
	{
		my $n = 1 + int(rand(30));
		my $late = rand() < 0.3 ? 'true' : 'false';
		$holder->query_safe("BEGIN; $cols SELECT * FROM cvt.rows($n, $late)");
		$held = 1 + int(rand(3));
		$held_txns++;
	}
	elsif (rand() < 0.3)
	{
		# a manual run competes with the scheduler
		my $v = $scheduled[ int(rand(@scheduled)) ];
		$node->safe_psql('postgres', "CALL incremental.execute_pipeline('public.$v->{name}')");
		$manual_runs++;
	}

	# a real-time view is paused for a while: its reads must stay exact
	if (!$paused && $elapsed > $seconds / 3 && $created{cv_rt})
	{
		$node->safe_psql('postgres', q{SELECT incremental.pause_continuous_view('cv_rt')});
		$paused = 1;
	}
	if ($paused && !$resumed && $elapsed > 2 * $seconds / 3)
	{
		$node->safe_psql('postgres', q{SELECT incremental.resume_continuous_view('cv_rt')});
		$resumed = 1;
	}

	for my $v (@realtime)
	{
		my $unprocessed = $node->safe_psql('postgres',
			"SELECT count(*) FROM ev WHERE id > (SELECT last_processed_sequence_number FROM incremental.sequence_pipelines WHERE pipeline_name = 'public.$v->{name}')"
		);
		my ($vg, $dg, @bad) = compare_view($v);
		$samples{ $v->{name} }++;
		$samples_unprocessed{ $v->{name} }++ if $unprocessed > 0;
		if ($vg != $dg || @bad)
		{
			# the first three failing reads of each view are shown
			next if ++$sample_failures{ $v->{name} } > 3;
			diag(sprintf('%s at %.1f s: %d groups in the view, %d direct', $v->{name}, $elapsed, $vg, $dg));
			report($v->{name}, @bad);
		}
	}
	usleep(300_000);
}
$holder->query_safe('COMMIT') if $held;
$holder->quit;
$pgbench->finish;
is($pgbench->result(0), 0, 'pgbench finished') or diag(slurp_file($pgbench_log));
my ($tps) = slurp_file($pgbench_log) =~ /tps = ([\d.]+)/;

my $rows = $node->safe_psql('postgres', q{SELECT count(*) || ' rows, ' || count(*) FILTER (WHERE at < now() - interval '1 hour') || ' late, ' || (SELECT last_value FROM ev_id_seq) || ' ids drawn' FROM ev});
diag("writers: $rows; pgbench ${\ ($tps // '?')} tps; $held_txns transactions held open, $manual_runs manual runs");

for my $v (@realtime)
{
	my $n = $v->{name};
	is($sample_failures{$n} // 0, 0,
		"$n: real-time reads during the writes equal the direct query in the same snapshot ("
		  . ($samples{$n} // 0)
		  . ' samples)');
}
cmp_ok($samples_unprocessed{cv_rt} // 0, '>', 0, 'cv_rt was read while rows were waiting for its pipeline');

# --- after the writers: every view catches up and equals its query
# (a view whose runs keep failing would never catch up: stop waiting)
$node->poll_query_until(
	'postgres', q{
SELECT bool_and(s.pending = 0) OR bool_or(s.consecutive_failures >= 3)
FROM incremental.continuous_views v JOIN incremental.pipeline_stats s USING (pipeline_name)});
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(format('%s: %s pending', view_name, coalesce(pending::text, '?')), ', ') FROM incremental.continuous_views WHERE pending IS DISTINCT FROM 0}
	),
	'',
	'every continuous view caught up with its source');
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(pipeline_name || ': ' || error_message, E'\n') FROM incremental.pipeline_runs WHERE status = 'failed'}
	),
	'',
	'no run failed');

for my $v (@views)
{
	my $n = $v->{name};
	SKIP:
	{
		skip "$n was not created", 2 unless $created{$n};
		my ($vg, $dg, @bad) = compare_view($v);
		is($vg, $dg, "$n: as many groups as the direct query");
		is(scalar(@bad), 0, "$n: every group equals the direct query") or report($n, @bad);
	}
}
# each view was merged from many batches
my $batches = $node->safe_psql(
	'postgres', q{
SELECT min(b), string_agg(format('%s %s', pipeline_name, b), ', ' ORDER BY pipeline_name)
FROM (SELECT pipeline_name, sum(batches) AS b FROM incremental.pipeline_runs GROUP BY 1) r});
my ($min_batches, $batch_list) = split /\|/, $batches;
diag("batches: $batch_list");
cmp_ok($min_batches, '>=', 10, 'every view was merged from at least 10 batches');

# --- DROP VIEW drops the storage, side tables and pipeline
for my $name (qw(cv_ljoin cv_distinct_exact))
{
	my $storage = $node->safe_psql('postgres',
		"SELECT storage_table::oid FROM incremental.continuous_view_definitions WHERE pipeline_name = 'public.$name'");
	my $tables = $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_class WHERE relname LIKE '${name}\\_%' AND relkind = 'r'");
	$node->safe_psql('postgres', "DROP VIEW $name");
	is( $node->safe_psql(
			'postgres', qq{
SELECT NOT EXISTS (SELECT FROM pg_class WHERE oid = '$storage')
   AND NOT EXISTS (SELECT FROM pg_class WHERE relname LIKE '${name}\\_%')
   AND NOT EXISTS (SELECT FROM incremental.pipelines WHERE pipeline_name = 'public.$name')
   AND NOT EXISTS (SELECT FROM incremental.sequence_pipelines WHERE pipeline_name = 'public.$name')
   AND NOT EXISTS (SELECT FROM incremental.continuous_view_definitions WHERE pipeline_name = 'public.$name')}),
		't',
		"DROP VIEW $name removes its storage table ($tables tables in all) and its pipeline");
}
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM incremental.continuous_views WHERE view_name::text LIKE 'cv%'"),
	scalar(grep { $created{$_} } keys %created) - 2,
	'the other continuous views remain');

$node->stop;
done_testing();
