# Makefile for the migrate extension (PGXS)

EXTENSION  = migrate
MODULE_big = migrate
# src/ is split by layer (see doc/internals.md, "Architecture of src/"); every
# layer's files are compiled into the one module
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))
DATA       = migrate--1.0.sql migrate--1.0--1.1.sql
DOCS       = doc/migrate.md doc/tutorial.md doc/troubleshooting.md doc/internals.md
# migrate.control is the one place that names the version: migrate.version()
# returns it, compiled in
MIGRATE_VERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(srcdir)/migrate.control)
PG_CPPFLAGS = -I$(srcdir)/src -DMIGRATE_VERSION="\"$(MIGRATE_VERSION)\""

# pg_regress: one concern per file, run in this order against a running
# server (make installcheck with PGHOST/PGPORT set; see scripts/test.sh)
REGRESS = setup extversion version checksum header parse cron register apply revert surface \
          repair require safety errors rehearse session resume messages client_support \
          environment lock_timeout guard_rails backup backup_security lint_register \
          generate_down lint_types drift lint_locking adopt analyze lint_size \
          lint_rules
REGRESS_OPTS = --load-extension=plpgsql

# isolation specs live in test/isolation/specs, expected output beside them
ISOLATION = concurrent-apply three-appliers apply-vs-revert \
            register-during-apply lock-nowait lock-nontransactional lock_retry \
            gendown-locked lint-no-wait lint-locking-no-wait analyze-measure \
            drift-watermark drift-capture-locked
ISOLATION_OPTS = --inputdir=$(srcdir)/test/isolation --outputdir=output_iso \
                 --load-extension=migrate

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# pgTAP assertions about catalog shape and privileges
installcheck-pgtap:
	pg_prove --ext .sql -v test/pgtap/

.PHONY: installcheck-pgtap

# PGXS tracks no header dependencies: rebuild every object when a header
# changes, so that no object keeps an old struct layout
$(OBJS): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/*/*.h)

# migrate.version() compiles the control file's version in
src/migrate.o: $(srcdir)/migrate.control

# the pg_migrate client in bin/ is built, installed and cleaned with the
# extension (bin/Makefile is its own PGXS PROGRAM makefile)
all: all-bin
install: install-bin
clean: clean-bin
uninstall: uninstall-bin
all-bin install-bin clean-bin uninstall-bin:
	$(MAKE) -C bin $(patsubst %-bin,%,$@) PG_CONFIG=$(PG_CONFIG)
.PHONY: all-bin install-bin clean-bin uninstall-bin

# TAP tests of the pg_migrate client (t/*.pl: PostgreSQL::Test::Cluster and
# prove, the PGXS prove_installcheck recipe, so PATH starts with the
# installation's bindir, where make install put pg_migrate).  A target of
# its own rather than TAP_TESTS = 1: make installcheck is run as root by
# scripts/test.sh and scripts/valgrind.sh, and initdb refuses root; as root,
# run scripts/tap.sh, which runs this target as the postgres OS user.
installcheck-tap:
	$(prove_installcheck)

.PHONY: installcheck-tap
