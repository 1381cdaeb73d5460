# Gradient-boosted trees: xgb_train, xgb_predict, importance, XGBoost JSON (issue 3).
CORE_SRCS	+= src/trees/gbt.c src/trees/gbt_hist.c src/trees/gbt_split.c src/trees/gbt_grow.c src/trees/gbt_train.c src/trees/gbt_metric.c src/trees/gbt_codec.c src/trees/gbt_json.c
UNIT_TESTS	+= test/unit/test_gbt.c test/unit/test_gbt_hist.c test/unit/test_gbt_rows.c
SQL_SRCS	+= src/trees/gbt_agg.c src/trees/gbt_sql.c src/core/predict_sql.c
FUZZ_TARGETS	+= test/fuzz/fuzz_gbt.c
FUZZ_TARGETS	+= test/fuzz/fuzz_gbt_json.c
