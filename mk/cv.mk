# Cross-validation and tuning in SQL (issue 14): the fold hash core and its
# wrappers; scfrisk.cross_validate and scfrisk.tune are PL/pgSQL in
# sql/install/27_cv.sql.
CORE_SRCS	+= src/metrics/cv.c
SQL_SRCS	+= src/metrics/cv_sql.c
UNIT_TESTS	+= test/unit/test_cv.c
