# Model governance (issue 17, items 4-6): training distributions and PSI/CSI
# for drift, probability calibration; the monotone constraints live in the
# tree core (src/trees).
CORE_SRCS	+= src/governance/drift.c src/governance/calibrate.c src/governance/sections.c \
		   src/governance/calibrate_cv.c src/governance/drift_trees.c
SQL_SRCS	+= src/governance/governance_sql.c src/governance/drift_pg.c
UNIT_TESTS	+= test/unit/test_governance.c
FUZZ_TARGETS	+= test/fuzz/fuzz_governance.c
