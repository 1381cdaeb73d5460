# Loan risk curves, loan sizing, demo data (issue 6).
CORE_SRCS	+= src/risk/risk.c src/risk/risk_size.c src/risk/risk_decision.c
UNIT_TESTS	+= test/unit/test_risk.c test/unit/test_risk_decision.c
SQL_SRCS	+= src/risk/risk_sql.c src/risk/decision_sql.c
SQL_SRCS	+= src/risk/demo_sql.c
FUZZ_TARGETS	+= test/fuzz/fuzz_risk.c
