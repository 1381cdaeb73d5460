#!/usr/bin/python3
"""Multi-session test of the demo's risk refresh and of long risk queries.

scfrisk_demo.refresh_risk() retrains both models and rewrites the tables
behind the BI views in one transaction.  While it runs, a reader of the views
must keep seeing the previous results without waiting for a lock; cancelled
in its loan-sizing phase (pg_cancel_backend from another session), it must
end with SQLSTATE 57014 and leave the views and the stored models exactly as
they were; run again, it must reproduce them bit for bit.  A long lateral
query of loan_risk_curve over every seller is cancelled the same way.  No
timing is asserted: the canceller waits for the phase it aims at using the
timings of an earlier refresh, and prints where the cancel landed.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

SELLERS, LEVELS = 3000, 400

t = Tap()
admin = psycopg2.connect("")
admin.autocommit = True
acur = admin.cursor()
acur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
acur.execute("SELECT scfrisk.generate_demo_data(%s, 11)", (SELLERS,))
# many loan levels per seller, so that the risk phase of a refresh lasts seconds
acur.execute("UPDATE scfrisk_demo.policy SET loan_levels = %s", (LEVELS,))
acur.execute("SELECT scfrisk_demo.refresh_risk()")
timings = acur.fetchone()[0]["seconds"]
print("# first refresh: %s" % timings)

SNAPSHOT = """SELECT (SELECT md5(string_agg((to_jsonb(r) - 'refreshed_at')::text, ',' ORDER BY seller_id)) FROM scfrisk_demo.seller_risk r),
                     (SELECT md5(string_agg(c::text, ',' ORDER BY seller_id, loan)) FROM scfrisk_demo.seller_risk_curve c),
                     (SELECT md5(string_agg(md5(model), ',' ORDER BY name)) FROM scfrisk_demo.models)"""
acur.execute(SNAPSHOT)
before = acur.fetchone()
acur.execute("SELECT count(*) FROM scfrisk_demo.seller_risk_curve")
n_curve = acur.fetchone()[0]
t.ok(n_curve == SELLERS * LEVELS, "first refresh: %d curve rows" % n_curve)

work = psycopg2.connect("")
work.autocommit = True
wcur = work.cursor()
wcur.execute("SELECT pg_backend_pid()")
pid = wcur.fetchone()[0]


def wait_active():
    for _ in range(600):
        acur.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = acur.fetchone()
        if row and row[0] == "active":
            return time.time()
        time.sleep(0.02)
    return time.time()


def run_in_thread(sql, result):
    def run():
        t0 = time.time()
        try:
            wcur.execute(sql)
            result["outcome"] = "finished"
        except psycopg2.Error as e:
            result["outcome"] = e.pgcode
        result["seconds"] = time.time() - t0
    th = threading.Thread(target=run)
    th.start()
    return th


# 1. cancel a refresh in its loan-sizing phase, reading the views meanwhile.
# The aim comes from the first refresh's phase timings; a loaded machine can
# make a later refresh faster or slower than that one, so when the cancel
# arrives after the refresh finished, it is tried again aimed earlier in the
# (now known) length of a refresh.  Only where the cancel landed is timing.
total_s = timings["sales_model_s"] + timings["credit_model_s"] + timings["risk_s"]
aims = [timings["sales_model_s"] + timings["credit_model_s"] + 0.5 * timings["risk_s"]]
reader = psycopg2.connect("")
reader.autocommit = True
rcur = reader.cursor()
rcur.execute("SET lock_timeout = '5s'")
seen_all = []
for attempt in range(3):
    result = {}
    th = run_in_thread("SELECT scfrisk_demo.refresh_risk()", result)
    start = wait_active()
    aim = aims[-1]
    time.sleep(max(0.0, aim - (time.time() - start)))
    # the reader: its own session, never waiting more than 5 s for a lock
    try:
        rcur.execute("SELECT count(*) FROM scfrisk_demo.seller_risk_curve")
        seen_all.append(rcur.fetchone()[0])
    except psycopg2.Error as e:
        seen_all.append(e.pgcode)
    acur.execute("SELECT pg_cancel_backend(%s)", (pid,))
    cancel_at = time.time() - start
    th.join(300)
    if th.is_alive() or result.get("outcome") != "finished":
        break
    # finished before the cancel: aim at the middle of the sizing phase of
    # a refresh as long as this one was, then earlier still
    print("# attempt %d: the refresh finished (%.2f s) before the cancel (%.2f s); aiming earlier"
          % (attempt + 1, result.get("seconds", -1), cancel_at))
    wcur.execute("SELECT 1")
    aims.append(result["seconds"] * (0.6 if attempt == 0 else 0.3))
t.ok(all(v == n_curve for v in seen_all),
     "a reader during the refresh sees the previous %d curve rows without waiting (%s)" % (n_curve, seen_all))
t.ok(not th.is_alive(), "the cancelled refresh returned")
t.ok(result.get("outcome") == "57014", "refresh cancelled with query_canceled (%s)" % result.get("outcome"))
print("# cancel sent %.2f s into the refresh (aimed at %.2f s; first refresh %.2f s in all), "
      "refresh returned %.2f s after its start" % (cancel_at, aim, total_s, result.get("seconds", -1)))
acur.execute(SNAPSHOT)
t.ok(acur.fetchone() == before, "after the cancel, seller_risk, seller_risk_curve and the models are unchanged")
wcur.execute("SELECT 1")
t.ok(wcur.fetchone()[0] == 1, "the backend is usable after the cancel")

# 2. the refresh run again reproduces the views and models bit for bit
wcur.execute("SELECT scfrisk_demo.refresh_risk()")
acur.execute(SNAPSHOT)
t.ok(acur.fetchone() == before, "a second complete refresh reproduces the views and the models exactly")

# 3. a long lateral risk query over every seller, cancelled
LONG = """SELECT count(*), sum(c.el)
FROM scfrisk_demo.sellers s,
     LATERAL scfrisk.loan_risk_curve(
         (SELECT model FROM scfrisk_demo.models WHERE name = 'sales'),
         scfrisk.demo_sales_covariates(s.log_past_sales, s.age_years, s.rating, s.category, s.marketplace, 1),
         scfrisk.loan_grid(s.past_period_sales, 20000),
         '{"rate": 0.02}') c"""
result = {}
th = run_in_thread(LONG, result)
start = wait_active()
time.sleep(1.0)
acur.execute("SELECT pg_cancel_backend(%s)", (pid,))
th.join(300)
t.ok(result.get("outcome") == "57014", "a long loan_risk_curve query is cancelled with query_canceled (%s, %.2f s)"
     % (result.get("outcome"), result.get("seconds", -1)))
wcur.execute("SELECT count(*) FROM scfrisk.loan_risk_curve((SELECT model FROM scfrisk_demo.models WHERE name = 'sales'), "
             "scfrisk.demo_sales_covariates(10, 3, 4.5, 1, 1, 1), scfrisk.loan_grid(20000, 50), '{}')")
t.ok(wcur.fetchone()[0] == 50, "the backend scores risk curves after the cancel")
t.done()
