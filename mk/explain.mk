# Per-row explanations (issue 17, items 1-3): TreeSHAP, Shapley values against
# a stored background sample, reason codes.
CORE_SRCS	+= src/explain/treeshap.c src/explain/treeshap_plan.c src/explain/additive.c src/explain/shapley.c src/explain/background.c src/explain/explain.c
SQL_SRCS	+= src/explain/explain_sql.c
UNIT_TESTS	+= test/unit/test_explain.c test/unit/test_treeshap.c
FUZZ_TARGETS += test/fuzz/fuzz_explain.c
