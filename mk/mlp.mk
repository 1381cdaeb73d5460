# MLP, logistic regression, metrics, partial dependence (issue 4).
CORE_SRCS	+= src/nn/nn.c src/nn/mlp.c src/nn/mlp_train.c src/linear/logreg.c src/metrics/metrics.c
SQL_SRCS	+= src/nn/mlp_agg.c src/nn/mlp_sql.c src/metrics/metrics_sql.c
UNIT_TESTS	+= test/unit/test_nn.c test/unit/test_mlp.c test/unit/test_logreg.c test/unit/test_metrics.c
FUZZ_TARGETS += test/fuzz/fuzz_mlp.c test/fuzz/fuzz_logreg.c
