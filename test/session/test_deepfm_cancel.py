#!/usr/bin/python3
"""Multi-session test of qrgmm_deepfm_train: cancellation with worker threads.

A second session cancels a long threaded DeepFM fit (scfrisk.threads = 2) with
pg_cancel_backend; the fit must end with SQLSTATE 57014 (query_canceled) soon
after (the core polls between batches and the worker threads of a batch are
joined first), the backend must stay usable, and a small fit must then
complete.  No timing is asserted (the delay is printed): the canceller waits
until the fit is running, and the fit is large enough to still be running
then.
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
acur.execute("DROP TABLE IF EXISTS dfm_cancel")
acur.execute("""CREATE UNLOGGED TABLE dfm_cancel AS
    SELECT ARRAY[random(), random()]::float8[] AS num,
           ARRAY[(random() * 20)::int, (random() * 5)::int]::int[] AS cat,
           random() * 100 AS y
    FROM generate_series(1, 20000)""")

work = psycopg2.connect("")
work.autocommit = True
wcur = work.cursor()
wcur.execute("SET scfrisk.threads = 2")
wcur.execute("SELECT pg_backend_pid()")
pid = wcur.fetchone()[0]

result = {}


def run():
    try:
        wcur.execute("SELECT scfrisk.qrgmm_deepfm_train(num, cat, y, '{\"layers\": [256, 128], "
                     "\"epochs\": 100000, \"patience\": 0, \"batch_size\": 512}') FROM dfm_cancel")
        result["outcome"] = "finished"
    except psycopg2.Error as e:
        result["outcome"] = e.pgcode
    result["end"] = time.time()


th = threading.Thread(target=run)
th.start()
for _ in range(600):
    acur.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
    row = acur.fetchone()
    if row and row[0] == "active":
        break
    time.sleep(0.05)
time.sleep(1.5)
sent = time.time()
acur.execute("SELECT pg_cancel_backend(%s)", (pid,))
th.join(120)
t.ok(not th.is_alive(), "the canceled fit returned")
t.ok(result.get("outcome") == "57014", "threaded fit canceled with query_canceled (%s)" % result.get("outcome"))
print("# the cancel took effect in %.2f s (not asserted)" % (result.get("end", sent) - sent))
wcur.execute("SELECT 1")
t.ok(wcur.fetchone()[0] == 1, "the backend is usable after the cancel")
wcur.execute("SELECT scfrisk.model_kind(scfrisk.qrgmm_deepfm_train(num, cat, y, "
             "'{\"layers\": [8], \"epochs\": 2, \"patience\": 0}')) FROM dfm_cancel")
t.ok(wcur.fetchone()[0] == "qrgmm_deepfm", "a threaded fit completes afterwards")
acur.execute("DROP TABLE dfm_cancel")
t.done()
