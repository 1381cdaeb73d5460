#!/usr/bin/python3
"""Parallel training plans of mlp_train and logreg_train (issue 4).

With parallel query forced, the plan must show a Partial Aggregate and the
model must be byte-identical (md5) to the serial one: the final functions
put the rows in a canonical order before training.  Prints TAP.
"""
import sys

import psycopg2

n_test = 0
n_fail = 0


def check(ok, what):
    global n_test, n_fail
    n_test += 1
    n_fail += 0 if ok else 1
    print(("ok" if ok else "not ok") + " %d - %s" % (n_test, what), flush=True)


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    cur.execute("DROP TABLE IF EXISTS mlp_par")
    cur.execute("""CREATE TABLE mlp_par AS
        SELECT ARRAY[sin(i * 0.37), cos(i * 0.11), (i % 13)::float8] AS x,
               (sin(i * 0.37) + cos(i * 0.11) > 0.2)::int::float8 AS y
        FROM generate_series(1, 20000) i""")
    cur.execute("ANALYZE mlp_par")
    for agg, params in (("mlp_train", '{"hidden": [8], "epochs": 2, "seed": 5}'),
                        ("logreg_train", '{"C": 2}')):
        q = "SELECT md5(scfrisk.%s(x, y, '%s')) FROM mlp_par" % (agg, params)
        cur.execute("SET max_parallel_workers_per_gather = 0")
        cur.execute(q)
        serial = cur.fetchone()[0]
        cur.execute("SET max_parallel_workers_per_gather = 2")
        cur.execute("SET parallel_setup_cost = 0")
        cur.execute("SET parallel_tuple_cost = 0")
        cur.execute("SET min_parallel_table_scan_size = 0")
        cur.execute("EXPLAIN " + q)
        plan = "\n".join(r[0] for r in cur.fetchall())
        check("Partial Aggregate" in plan, "%s: the forced plan is a parallel partial aggregate" % agg)
        cur.execute(q)
        par = cur.fetchone()[0]
        check(par == serial, "%s: parallel model md5 equals the serial one" % agg)
        cur.execute("SELECT md5(scfrisk.%s(x, y, '%s')) FROM (SELECT * FROM mlp_par ORDER BY random()) s"
                    % (agg, params))
        check(cur.fetchone()[0] == serial, "%s: shuffled row order gives the same model" % agg)
        cur.execute("RESET ALL")
    cur.execute("DROP TABLE mlp_par")
    print("1..%d" % n_test)
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
