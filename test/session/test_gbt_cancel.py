#!/usr/bin/python3
"""Multi-session test of xgb_train: cancellation and statement_timeout.

A second session cancels a long threaded training (scfrisk.threads = 2)
with pg_cancel_backend while it is boosting; the training must end with
SQLSTATE 57014 (query_canceled), the backend must stay usable, and a small
training must then complete.  statement_timeout must stop a training the
same way.  The delay after the cancel (the issue's contract: within 0.5 s)
is printed, not asserted: timings on a loaded machine make flaky tests.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

t = Tap()
admin = psycopg2.connect("")
admin.autocommit = True
acur = admin.cursor()
acur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
acur.execute("DROP TABLE IF EXISTS gbt_cancel")
acur.execute("""CREATE UNLOGGED TABLE gbt_cancel AS
    SELECT ARRAY[random(), random(), random(), random(), random(), random(), random(), random()]::float8[] AS f,
           (random() < 0.4)::int::float8 AS y
    FROM generate_series(1, 200000)""")

work = psycopg2.connect("")
work.autocommit = True
wcur = work.cursor()
wcur.execute("SET scfrisk.threads = 2")
wcur.execute("SELECT pg_backend_pid()")
pid = wcur.fetchone()[0]
LONG = "SELECT scfrisk.xgb_train(f, y, '{\"n_estimators\": 100000, \"max_depth\": 8}') FROM gbt_cancel"

result = {}


def run():
    try:
        wcur.execute(LONG)
        result["outcome"] = "finished"
    except psycopg2.Error as e:
        result["outcome"] = e.pgcode
    result["end"] = time.monotonic()


th = threading.Thread(target=run)
th.start()
for _ in range(600):
    acur.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
    row = acur.fetchone()
    if row and row[0] == "active":
        break
    time.sleep(0.05)
time.sleep(3.0)  # past the scan, inside the boosting loop
sent = time.monotonic()
acur.execute("SELECT pg_cancel_backend(%s)", (pid,))
th.join(120)
t.ok(not th.is_alive(), "the canceled training returned")
t.ok(result.get("outcome") == "57014", "threaded training canceled with query_canceled (%s)" % result.get("outcome"))
delay = result.get("end", sent + 99) - sent
# timings are reported, never asserted (a loaded machine would make them flaky)
print("# stopped %.3f s after pg_cancel_backend (contract: within 0.5 s)" % delay, flush=True)
wcur.execute("SELECT 1")
t.ok(wcur.fetchone()[0] == 1, "the backend is usable after the cancel")

wcur.execute("SET statement_timeout = '2500ms'")
start = time.monotonic()
try:
    wcur.execute(LONG)
    outcome = "finished"
except psycopg2.Error as e:
    outcome = e.pgcode
el = time.monotonic() - start
wcur.execute("RESET statement_timeout")
t.ok(outcome == "57014", "statement_timeout stops training (%s)" % outcome)
print("# stopped %.3f s after start with a 2.5 s timeout" % el, flush=True)
wcur.execute("SELECT scfrisk.model_kind(scfrisk.xgb_train(f, y, '{\"n_estimators\": 3}')) FROM gbt_cancel")
t.ok(wcur.fetchone()[0] == "gbt", "a threaded training completes afterwards")
acur.execute("DROP TABLE gbt_cancel")
t.done()
