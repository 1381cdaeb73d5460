-- scfrisk update script 0.1.0 -> 0.2.0, part 00: the guard.
-- The update script sql/scfrisk--0.1.0--0.2.0.sql is the concatenation of
-- sql/update/0.1.0--0.2.0/*.sql in name order.  Every change a concern makes
-- to its install fragment (sql/install/NN_<concern>.sql) is repeated here, in
-- a fragment NN_<concern>.sql of its own, so that ALTER EXTENSION scfrisk
-- UPDATE gives the same objects as a fresh CREATE EXTENSION.

\echo Use "ALTER EXTENSION scfrisk UPDATE TO '0.2.0'" to load this file. \quit
