# Bootstrap replicates of QRGMM and the interval of a loan's PD and EL (issue 16).
CORE_SRCS	+= src/qrgmm/qrgmm_boot.c src/risk/interval.c
UNIT_TESTS	+= test/unit/test_interval.c
SQL_SRCS	+= src/qrgmm/qrgmm_boot_agg.c src/risk/interval_sql.c
