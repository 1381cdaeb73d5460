#!/usr/bin/python3
"""Time scfrisk_demo.refresh_risk() twice on a generated book: the second
refresh also deletes the first one's rows (the refresh deletes rather than
truncates so the views' readers are never locked out), and print the size the
curve table has then (dead rows stay until vacuum).

    scripts/cluster.sh /usr/bin/python3 bench/risk_refresh.py [sellers]   (default 100000)
"""
import sys
import time

import psycopg2

sellers = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
t0 = time.time()
cur.execute("SELECT scfrisk.generate_demo_data(%s, 42)", (sellers,))
print("generate_demo_data(%d): %.1f s" % (sellers, time.time() - t0))
for k in (1, 2):
    t0 = time.time()
    cur.execute("SELECT scfrisk_demo.refresh_risk()")
    phases = cur.fetchone()[0]["seconds"]
    print("refresh %d: %.1f s, phases %s" % (k, time.time() - t0, phases), flush=True)
cur.execute("SELECT pg_size_pretty(pg_total_relation_size('scfrisk_demo.risk_curve_result'))")
print("risk_curve_result after two refreshes: %s" % cur.fetchone()[0])
