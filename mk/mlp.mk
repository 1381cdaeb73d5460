# MLP, logistic regression, metrics, partial dependence (issue 4).
CORE_SRCS	+= src/nn.c src/mlp.c src/logreg.c src/metrics.c
SQL_SRCS	+= src/mlp_agg.c src/mlp_sql.c src/metrics_sql.c
UNIT_TESTS	+= test/unit/test_nn.c test/unit/test_mlp.c test/unit/test_logreg.c test/unit/test_metrics.c
FUZZ_TARGETS += test/fuzz/fuzz_mlp.c test/fuzz/fuzz_logreg.c
