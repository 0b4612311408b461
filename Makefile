# pg_incremental: PGXS build
#
#   make                  build the module
#   make install          install the module, control file and SQL scripts
#   make installcheck     pg_regress and isolation tests against a running server
#   make prove-installcheck   TAP tests (each starts its own servers)
#
# The full suite, with a throwaway server, is scripts/test.sh.

MODULE_big = pg_incremental
EXTENSION = pg_incremental

COMMON_OBJS = $(patsubst %.c,%.o,$(wildcard src/common/*.c))
CATALOG_OBJS = $(patsubst %.c,%.o,$(wildcard src/catalog/*.c))
PIPELINE_OBJS = $(patsubst %.c,%.o,$(wildcard src/pipelines/*.c))
CONTINUOUS_VIEW_OBJS = $(patsubst %.c,%.o,$(wildcard src/continuous_views/*.c))
STREAM_OBJS = $(patsubst %.c,%.o,$(wildcard src/streams/*.c))
DISTRIBUTED_OBJS = $(patsubst %.c,%.o,$(wildcard src/distributed/*.c))
SCHEDULER_OBJS = $(patsubst %.c,%.o,$(wildcard src/scheduler/*.c))
OBJS = $(COMMON_OBJS) $(CATALOG_OBJS) $(DISTRIBUTED_OBJS) $(PIPELINE_OBJS) $(CONTINUOUS_VIEW_OBJS) $(STREAM_OBJS) $(SCHEDULER_OBJS)

DATA = $(wildcard sql/pg_incremental--*.sql)

# Upgrades from the original's 1.3 and 1.4 rebuild the catalog with the 2.0
# install script itself, so they cannot drift from it (sql/upgrade/)
DATA_built = sql/generated/pg_incremental--1.3--2.0.sql sql/generated/pg_incremental--1.4--2.0.sql

PG_CPPFLAGS = -I$(srcdir)/src -I$(libpq_srcdir)
# src/distributed/node_connections.c keeps connections to other Citus nodes
SHLIB_LINK_INTERNAL = $(libpq)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror=implicit-function-declaration

REGRESS = $(sort $(notdir $(basename $(wildcard test/regress/sql/*.sql))))
REGRESS_OPTS = --inputdir=test/regress --outputdir=test/regress --load-extension=plpgsql
ISOLATION = $(sort $(notdir $(basename $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/tap/*.pl)) $(sort $(wildcard test/citus/*.pl))

EXTRA_CLEAN = test/regress/results test/regress/regression.* test/isolation/results \
	test/isolation/output_iso test/isolation/regression.* tmp_check

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# after the include: Makefile.global sets PROVE_FLAGS itself
PROVE_FLAGS += -I $(srcdir)/test/tap -I $(srcdir)/test/citus

# PGXS tracks no header dependencies; a struct changed in a header must not
# leave objects built against its old layout, so rebuild on any header change
$(OBJS): $(wildcard src/*.h src/*/*.h)

sql/generated/pg_incremental--%--2.0.sql: sql/upgrade/from-1.x-before.sql \
		sql/pg_incremental--2.0.sql sql/upgrade/from-1.x-after.sql
	@mkdir -p sql/generated
	cat $^ > $@

.PHONY: prove-installcheck
prove-installcheck:
	$(prove_installcheck)
