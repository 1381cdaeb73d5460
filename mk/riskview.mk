# Money columns of the risk views as numeric cents without the decimal text (issue 19, item 4).
CORE_SRCS	+= src/risk/cents.c
UNIT_TESTS	+= test/unit/test_cents.c
