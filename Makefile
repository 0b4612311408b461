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

CATALOG_OBJS = $(patsubst %.c,%.o,$(wildcard src/catalog/*.c))
PIPELINE_OBJS = $(patsubst %.c,%.o,$(wildcard src/pipelines/*.c))
SCHEDULER_OBJS = $(patsubst %.c,%.o,$(wildcard src/scheduler/*.c))
OBJS = $(CATALOG_OBJS) $(PIPELINE_OBJS) $(SCHEDULER_OBJS)

DATA = $(wildcard sql/pg_incremental--*.sql)

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror=implicit-function-declaration

REGRESS = $(sort $(notdir $(basename $(wildcard test/regress/sql/*.sql))))
REGRESS_OPTS = --inputdir=test/regress --outputdir=test/regress --load-extension=plpgsql
ISOLATION = $(sort $(notdir $(basename $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/tap/*.pl))

EXTRA_CLEAN = test/regress/results test/regress/regression.* test/isolation/results \
	test/isolation/output_iso test/isolation/regression.* tmp_check

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# after the include: Makefile.global sets PROVE_FLAGS itself
PROVE_FLAGS += -I $(srcdir)/test/tap

.PHONY: prove-installcheck
prove-installcheck:
	$(prove_installcheck)
