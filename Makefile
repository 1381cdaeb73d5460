# scfrisk: PGXS build.
#
#   make / make install     build and install the extension (pg_config on PATH)
#   make NO_BLAS=1          build without OpenBLAS (plain-C kernels)
#   make WERROR=1           warnings are errors (the test build)
#   make unit               build and run the C unit tests of the cores
#   make cores              compile every core with plain cc, no PostgreSQL headers
#   make fuzz               build the libFuzzer targets (clang, ASan, UBSan)
#   make installcheck       pg_regress against the server in PG* variables
#   make test               every test layer on a throwaway cluster (scripts/test.sh)
#   make demo               the README's main job (scripts/demo.sh)
#   make bench              benchmarks side by side with the peers (bench/run.sh)
#
# Each concern adds its files in mk/<concern>.mk, so parallel work never edits
# this file: CORE_SRCS (pure C, no postgres.h), SQL_SRCS (fmgr wrappers),
# UNIT_TESTS (test/unit/test_*.c), FUZZ_TARGETS (test/fuzz/fuzz_*.c).  The
# install script is the concatenation of sql/install/*.sql in name order.

EXTENSION	= scfrisk
EXTVERSION	= 0.2.0
MODULE_big	= scfrisk
PG_CONFIG  ?= pg_config

CORE_SRCS	= src/core/core.c src/core/container.c src/core/kinds.c src/core/pool.c src/core/rng.c src/core/params.c src/core/blas.c
SQL_SRCS	= src/core/module_sql.c src/core/env_sql.c src/core/array_sql.c src/core/params_sql.c \
			  src/core/container_sql.c
UNIT_TESTS	= test/unit/test_core.c test/unit/test_container.c test/unit/test_kinds.c test/unit/test_pool.c test/unit/test_rng.c \
			  test/unit/test_params.c test/unit/test_blas.c
FUZZ_TARGETS = test/fuzz/fuzz_container.c
UNIT_LIBS	=

-include $(sort $(wildcard mk/*.mk))

OBJS		= $(CORE_SRCS:.c=.o) $(SQL_SRCS:.c=.o)
# Install and update scripts.  The current version's install script is built
# from sql/install/*.sql; each update script sql/$(EXTENSION)--A--B.sql from the
# fragments in sql/update/A--B/*.sql and the wholly new install fragments listed
# in sql/update/A--B/new-objects, in file-name order (scripts/update_script.sh).
# Released install scripts
# (sql/$(EXTENSION)--X.Y.Z.sql, committed) are shipped as they are and never
# edited (STYLE.md rule 23).
UPDATES		= $(notdir $(wildcard sql/update/*--*))
UPDATE_SCRIPTS = $(patsubst %,sql/$(EXTENSION)--%.sql,$(UPDATES))
DATA_built	= sql/$(EXTENSION)--$(EXTVERSION).sql $(UPDATE_SCRIPTS)
DATA		= $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
DOCS		= $(wildcard docs/*.md)
ifeq ($(DOCS),)
undefine DOCS
endif
INSTALL_SQL	= $(sort $(wildcard sql/install/*.sql))
REGRESS		= $(sort $(basename $(notdir $(filter-out sql/$(EXTENSION)--%,$(wildcard sql/*.sql)))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)
EXTRA_CLEAN	= build results regression.diffs regression.out

# Private headers of a concern sit in its folder (src/<concern>/*.h); every
# folder is on the include path, so a file names a header by its own name.
SRC_DIRS	= $(sort $(dir $(wildcard src/*/*.c)))
PG_CPPFLAGS	= -Iinclude $(addprefix -I,$(SRC_DIRS)) -DSCFRISK_VERSION=\"$(EXTVERSION)\"
ifdef NO_BLAS
BLAS_CFLAGS	=
BLAS_LIBS	=
else
BLAS_CFLAGS	= -DHAVE_CBLAS
BLAS_LIBS	= -lopenblas
endif
PG_CPPFLAGS	+= $(BLAS_CFLAGS)
SHLIB_LINK	+= $(BLAS_LIBS) -lpthread -lm
PG_CFLAGS	+= -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare
ifdef WERROR
PG_CFLAGS	+= -Werror
endif

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object depends on every project header: coarse, but an edited header
# never leaves a stale object behind.
$(OBJS): $(wildcard include/scfrisk/*.h src/*/*.h)

# The install script, built from the per-concern fragments.
sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_SQL)
	cat $^ > $@

# Each update script, from its folder's fragments and the new install
# fragments it lists (scripts/update_script.sh).
define UPDATE_RULE
sql/$(EXTENSION)--$(1).sql: $$(wildcard sql/update/$(1)/*) $$(INSTALL_SQL) scripts/update_script.sh
	scripts/update_script.sh $(1) > $$@
endef
$(foreach u,$(UPDATES),$(eval $(call UPDATE_RULE,$(u))))

# ---------------------------------------------------------------- cores
# Cores compile with plain cc and no PostgreSQL include path: the proof that
# they stay free of the server (STYLE.md rule 2).
CC_CORE		?= cc
CORE_CFLAGS	= -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
			  -Wno-missing-field-initializers -Wno-sign-compare -Iinclude $(BLAS_CFLAGS)
SAN_FLAGS	= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: cores unit fuzz test demo bench
cores: $(CORE_SRCS)
	@mkdir -p build/cores
	@for f in $(CORE_SRCS); do \
		echo "$(CC_CORE) -c $$f (no PostgreSQL headers)"; \
		$(CC_CORE) $(CORE_CFLAGS) -c $$f -o build/cores/$$(basename $$f .c).o || exit 1; \
	done

# Unit tests and fuzz targets link the cores compiled once per flavour
# (sanitised gcc for unit, clang with libFuzzer for fuzz), not once per test.
CORE_HDRS	= $(wildcard include/scfrisk/*.h src/*/*.h)
UNIT_OBJS	= $(patsubst src/%.c,build/unit/obj/%.o,$(CORE_SRCS))
FUZZ_OBJS	= $(patsubst src/%.c,build/fuzz/obj/%.o,$(CORE_SRCS))
FUZZ_CFLAGS	= -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude $(BLAS_CFLAGS) \
			  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined

build/unit/obj/%.o: src/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(CC_CORE) $(CORE_CFLAGS) $(SAN_FLAGS) -c $< -o $@

build/unit/%: test/unit/%.c $(UNIT_OBJS) test/unit/sf_test.h $(CORE_HDRS)
	@mkdir -p build/unit
	$(CC_CORE) $(CORE_CFLAGS) $(SAN_FLAGS) -Itest/unit -o $@ $< $(UNIT_OBJS) $(UNIT_LIBS) $(BLAS_LIBS) -lpthread -lm

UNIT_BINS	= $(patsubst test/unit/%.c,build/unit/%,$(UNIT_TESTS))
unit: $(UNIT_BINS)
	@rc=0; for t in $(UNIT_BINS); do echo "# $$t"; $$t || rc=1; done; exit $$rc

build/fuzz/obj/%.o: src/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@

build/fuzz/%: test/fuzz/%.c $(FUZZ_OBJS) $(CORE_HDRS) test/fuzz/sf_fuzz.h
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(BLAS_LIBS) -lpthread -lm

FUZZ_BINS	= $(patsubst test/fuzz/%.c,build/fuzz/%,$(FUZZ_TARGETS))
fuzz: $(FUZZ_BINS)

test:
	scripts/test.sh

demo:
	scripts/demo.sh

bench:
	bench/run.sh
