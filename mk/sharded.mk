# Sharded training: one gradient-boosted model over every foreign partition of
# a table (xgb_train_sharded, issue 20 part 3; docs/scale-out.md).
CORE_SRCS	+= src/trees/gbt_dist.c src/trees/gbt_dist_grow.c
UNIT_TESTS	+= test/unit/test_gbt_dist.c
SQL_SRCS	+= src/trees/gbt_dist_sql.c
FUZZ_TARGETS	+= test/fuzz/fuzz_gbt_dist.c
