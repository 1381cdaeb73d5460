# QRGMM: quantile curve, linear quantile regression, QRGMM models (issue 5).
CORE_SRCS	+= src/qrgmm/qcurve.c src/qrgmm/qscore.c src/qrgmm/quantreg.c src/qrgmm/quantreg_pk.c src/qrgmm/qrgmm.c src/qrgmm/qrgmm_levels.c src/qrgmm/qrgmm_codec.c
UNIT_TESTS	+= test/unit/test_qcurve.c test/unit/test_qscore.c test/unit/test_quantreg.c test/unit/test_qrgmm.c
SQL_SRCS	+= src/qrgmm/qrgmm_sql.c src/qrgmm/qrgmm_agg.c
FUZZ_TARGETS	+= test/fuzz/fuzz_qrgmm.c
