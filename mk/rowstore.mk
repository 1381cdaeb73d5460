# The row store shared by the training aggregates (technical debt of the foundation).
CORE_SRCS	+= src/core/rowstore_order.c
UNIT_TESTS	+= test/unit/test_rowstore.c
SQL_SRCS	+= src/core/rowstore_pg.c
FUZZ_TARGETS	+= test/fuzz/fuzz_rowstore.c
