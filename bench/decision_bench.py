#!/usr/bin/python3
"""The lending decision against sales-only loan sizing over a book (issue 16).

    scripts/cluster.sh /usr/bin/python3 bench/decision_bench.py [--sellers 100000] [--repeat 3]

On the demo data set (scfrisk.generate_demo_data(N, seed) and
scfrisk_demo.refresh_risk() for the models), in one run and one session:

1. loan_size: the sales-only size of every seller's loan under the demo
   policy without its credit keys (lateral scfrisk.loan_size, rows counted);
2. loan_decision: the joined decision of every seller (lateral
   scfrisk.loan_decision with the credit model and its loan-dependent
   inputs, scfrisk.demo_credit_loan_policy);
3. loan_decision with a credit limit so tight that it binds for most sellers,
   which exercises the downward scan and the bisection of the credit limit
   (the first case costs one credit-model evaluation per seller when the
   credit limit does not bind).

The statements run alternately, --repeat times each (at least three), under
bench/benchlib.py's discipline: the medians and spreads of each are printed
as "name: value", with the ratio of each decision's median to loan_size's,
the number of sellers whose credit limit binds (those cost the scan and the
bisection; the others one credit-model evaluation and one for the PD), and
the load before and after; a run whose load passed 0.5 per core says NOISY
and exits with status 3, and its figures must not be recorded.  The session
runs with jit = off, as refresh_risk() does.
"""
import argparse
import os
import sys

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, say  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--sellers", type=int, default=100000)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--repeat", type=int, default=3)
args = ap.parse_args()

# the load is read before the data are generated: that work is the bench's own
bench = Bench()
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
cur.execute("SET client_min_messages = warning")
cur.execute("SET jit = off")
cur.execute("SELECT scfrisk.generate_demo_data(%s, %s)", (args.sellers, args.seed))
cur.execute("SELECT scfrisk_demo.refresh_risk()")
say("refresh_risk", cur.fetchone()[0])

COV = ("scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating, s.category, "
       "s.marketplace, 1)")
FROM = ("FROM scfrisk_demo.sellers s, scfrisk_demo.policy p, "
        "(SELECT model FROM scfrisk_demo.models WHERE name = 'sales') sm, "
        "(SELECT model FROM scfrisk_demo.models WHERE name = 'credit') cm, ")
CREDIT_KEYS = "ARRAY['credit_pd_limit', 'pd_combine', 'combined_pd_limit', 'min_loan', 'credit_grid']"
STATEMENTS = [
    ("loan_size", "SELECT count(*), 0 " + FROM +
     "LATERAL scfrisk.loan_size(sm.model, " + COV + ", (p.policy - " + CREDIT_KEYS + ") || "
     "jsonb_build_object('collateral_value', s.in_transit_value)) z"),
    ("loan_decision", "SELECT count(*), count(*) FILTER (WHERE d.binding_constraint = 'credit_pd_limit') " + FROM +
     "LATERAL scfrisk.loan_decision(sm.model, " + COV + ", cm.model, s.credit_features, "
     "p.policy || scfrisk.demo_credit_loan_policy(s.log_past_sales, s.in_transit_value)) d"),
    ("loan_decision, tight credit limit", "SELECT count(*), count(*) FILTER (WHERE d.binding_constraint = 'credit_pd_limit') " +
     FROM + "LATERAL scfrisk.loan_decision(sm.model, " + COV + ", cm.model, s.credit_features, "
     "p.policy || '{\"credit_pd_limit\": 0.01}' || "
     "scfrisk.demo_credit_loan_policy(s.log_past_sales, s.in_transit_value)) d"),
]
counts = {}


def runner(name, sql):
    def run():
        cur.execute(sql)
        counts[name] = cur.fetchone()
    return run


times = bench.alternate({name: runner(name, sql) for name, sql in STATEMENTS}, repeat=args.repeat)
for name, _ in STATEMENTS:
    say("%s_sellers" % name.replace(" ", "_").replace(",", ""), "%d (credit limit binds for %d)" % counts[name])
for name in ("loan_decision", "loan_decision, tight credit limit"):
    bench.report(name.replace(" ", "_").replace(",", ""), {k: times[k] for k in (name, "loan_size")},
                 name, "loan_size")
bench.done()
