# QRGMM: quantile curve, linear quantile regression, QRGMM models (issue 5).
CORE_SRCS	+= src/qcurve.c src/quantreg.c src/quantreg_pk.c src/qrgmm.c src/qrgmm_levels.c src/qrgmm_codec.c
UNIT_TESTS	+= test/unit/test_qcurve.c test/unit/test_quantreg.c test/unit/test_qrgmm.c
SQL_SRCS	+= src/qrgmm_sql.c src/qrgmm_agg.c
FUZZ_TARGETS	+= test/fuzz/fuzz_qrgmm.c
