# xgb_train_sharded's steps go straight over the connections postgres_fdw
# holds to the shards (src/trees/gbt_dist_pg.c): libpq's client calls, with
# binary results.
SQL_SRCS	+= src/trees/gbt_dist_pg.c
SHLIB_LINK	+= -lpq
src/trees/gbt_dist_pg.o src/trees/gbt_dist_pg.bc: override CPPFLAGS += -I$(shell $(PG_CONFIG) --includedir)
