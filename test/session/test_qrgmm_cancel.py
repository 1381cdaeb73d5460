#!/usr/bin/python3
"""Multi-session test of qrgmm_train: cancellation with worker threads.

A second session cancels a long threaded fit (scfrisk.threads = 2) with
pg_cancel_backend; the fit must end with SQLSTATE 57014 (query_canceled),
the backend must stay usable, and the same fit must then complete.  No
timing is asserted: the canceller waits until the fit is running, and the
fit is large enough to still be running then.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
import psycopg2.errors  # noqa: E402
from sftap import Tap  # noqa: E402

t = Tap()
admin = psycopg2.connect("")
admin.autocommit = True
acur = admin.cursor()
acur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
acur.execute("DROP TABLE IF EXISTS qr_cancel")
acur.execute("""CREATE UNLOGGED TABLE qr_cancel AS
    SELECT ARRAY[random() * 10, random() * 10 - 5, random() * 5]::float8[] AS x,
           random() * 10 AS y
    FROM generate_series(1, 60000)""")

work = psycopg2.connect("")
work.autocommit = True
wcur = work.cursor()
wcur.execute("SET scfrisk.threads = 2")
wcur.execute("SELECT pg_backend_pid()")
pid = wcur.fetchone()[0]

result = {}


def run():
    try:
        wcur.execute("SELECT scfrisk.qrgmm_train(x, y, '{\"m\": 2000, \"solver\": \"fn\", "
                     "\"transform\": \"identity\"}') FROM qr_cancel")
        result["outcome"] = "finished"
    except psycopg2.Error as e:
        result["outcome"] = e.pgcode


th = threading.Thread(target=run)
th.start()
# wait until the fit is running (the aggregate's final function)
for _ in range(600):
    acur.execute("SELECT state, query FROM pg_stat_activity WHERE pid = %s", (pid,))
    row = acur.fetchone()
    if row and row[0] == "active":
        break
    time.sleep(0.05)
time.sleep(1.0)
acur.execute("SELECT pg_cancel_backend(%s)", (pid,))
th.join(120)
t.ok(not th.is_alive(), "the canceled fit returned")
t.ok(result.get("outcome") == "57014", "threaded fit canceled with query_canceled (%s)" % result.get("outcome"))
wcur.execute("SELECT 1")
t.ok(wcur.fetchone()[0] == 1, "the backend is usable after the cancel")
wcur.execute("SELECT scfrisk.model_kind(scfrisk.qrgmm_train(x, y, '{\"m\": 50, \"transform\": \"identity\"}')) "
             "FROM qr_cancel")
t.ok(wcur.fetchone()[0] == "qrgmm_linear", "a threaded fit completes afterwards")
acur.execute("DROP TABLE qr_cancel")
t.done()
