# The XGBoost-MLP hybrid (issue 4): joins the tree core (mk/gbt.mk) and the
# MLP core (mk/mlp.mk).
CORE_SRCS	+= src/nn/xgb_mlp.c src/nn/xgb_mlp_blend.c
SQL_SRCS	+= src/nn/xgb_mlp_sql.c
UNIT_TESTS	+= test/unit/test_xgb_mlp.c
FUZZ_TARGETS += test/fuzz/fuzz_xgb_mlp.c
