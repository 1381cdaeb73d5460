# Model registry, deployment and scheduled retraining (issue 7): the C half of
# the registry; the tables and PL/pgSQL live in sql/install/60_registry.sql.
SQL_SRCS	+= src/registry/registry_sql.c
