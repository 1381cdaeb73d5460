# Sharded training: one model over every foreign partition of a table
# (xgb_train_sharded and logreg_train_sharded, issue 20; docs/scale-out.md).
CORE_SRCS	+= src/trees/gbt_dist.c src/trees/gbt_dist_shard.c src/trees/gbt_dist_grow.c src/linear/logreg_dist.c
UNIT_TESTS	+= test/unit/test_gbt_dist.c test/unit/test_logreg_dist.c
SQL_SRCS	+= src/trees/gbt_dist_sql.c src/linear/logreg_dist_sql.c
FUZZ_TARGETS	+= test/fuzz/fuzz_gbt_dist.c test/fuzz/fuzz_logreg_dist.c
