# Gradient-boosted trees: xgb_train, xgb_predict, importance, XGBoost JSON (issue 3).
CORE_SRCS	+= src/gbt.c src/gbt_hist.c src/gbt_split.c src/gbt_grow.c src/gbt_train.c src/gbt_metric.c src/gbt_codec.c src/gbt_json.c
UNIT_TESTS	+= test/unit/test_gbt.c
SQL_SRCS	+= src/gbt_agg.c src/gbt_sql.c src/predict_sql.c
FUZZ_TARGETS	+= test/fuzz/fuzz_gbt.c
FUZZ_TARGETS	+= test/fuzz/fuzz_gbt_json.c
