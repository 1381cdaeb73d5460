"""Multi-session tests of the scfrisk core.

- parallel plans: model_info/model_kind are PARALLEL SAFE, and a parallel scan
  gives the same answers as a serial one;
- concurrent sessions decoding models at the same time see no errors;
- the extension drops and re-creates cleanly, and ALTER EXTENSION UPDATE to
  the installed version is a no-op.
"""
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

t = Tap()
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")

# A table of small containers of every kind, built from a valid model by
# rewriting the kind field (offset 6) and the sections (none).
cur.execute("""
    CREATE TABLE models AS
    SELECT i, decode('53434652' || '0100' || lpad(to_hex((i % 6) + 1), 2, '0') || '00'
                     || '00000000' || '03000000' || '0000000000000000' || '00000000', 'hex') AS b
    FROM generate_series(1, 200000) AS i""")
cur.execute("ANALYZE models")

cur.execute("SET max_parallel_workers_per_gather = 0")
cur.execute("SELECT scfrisk.model_kind(b), count(*) FROM models GROUP BY 1 ORDER BY 1")
serial = cur.fetchall()

cur.execute("SET max_parallel_workers_per_gather = 2")
cur.execute("SET parallel_setup_cost = 0")
cur.execute("SET parallel_tuple_cost = 0")
cur.execute("SET min_parallel_table_scan_size = 0")
cur.execute("EXPLAIN SELECT scfrisk.model_kind(b), count(*) FROM models GROUP BY 1 ORDER BY 1")
plan = "\n".join(r[0] for r in cur.fetchall())
t.ok("Gather" in plan and "Partial" in plan, "model_kind runs under a parallel plan", plan)
cur.execute("SELECT scfrisk.model_kind(b), count(*) FROM models GROUP BY 1 ORDER BY 1")
t.ok(cur.fetchall() == serial, "parallel and serial plans agree")
# container_info: these hand-made containers have no body to score (model_info
# refuses them with XX001, issue 13); both run the same container code
cur.execute("SELECT count(*) FROM models WHERE (scfrisk.container_info(b) ->> 'n_features')::int = 3")
t.ok(cur.fetchone()[0] == 200000, "container_info in parallel workers reads every row")

# Concurrent sessions
errors = []


def worker(k):
    try:
        c = psycopg2.connect("")
        cc = c.cursor()
        for _ in range(5):
            cc.execute("SELECT count(DISTINCT scfrisk.model_kind(b)) FROM models WHERE i %% 4 = %s", (k,))
            # i = k mod 4 meets three of the six residues of i mod 6
            if cc.fetchone()[0] != 3:
                errors.append("session %d saw a wrong count" % k)
        c.close()
    except Exception as e:  # noqa: BLE001
        errors.append(repr(e))


threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
for th in threads:
    th.start()
for th in threads:
    th.join()
t.ok(not errors, "4 concurrent sessions decode headers without error", "\n".join(errors))

# In-server mutation test (pgvector's 037_inputs in spirit): random damage to
# a valid model must give a clean error with the documented SQLSTATE, or a
# valid decode, and never take the backend down.
import random  # noqa: E402
import struct  # noqa: E402


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def sec(tag, data):
    return struct.pack("<HQ", tag, len(data)) + data


def container(kind, nfeat, payload, fix_crc=True):
    return b"SCFR" + struct.pack("<HHIIQI", 1, kind, 0, nfeat, len(payload),
                                 crc32c(payload) if fix_crc else 0) + payload


names = struct.pack("<I", 2) + b"".join(struct.pack("<I", len(n)) + n for n in (b"a", b"b"))
base = container(1, 2, sec(1, b'{"eta": 0.3}') + sec(2, names) + sec(3, struct.pack("<Q", 10))
                 + sec(5, b'{"x": [1, 2]}') + sec(16, bytes(range(32))))
rng = random.Random(7)
outcomes = {"ok": 0, "XX001": 0, "0A000": 0}
unexpected = []
for i in range(1500):
    b = bytearray(base)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        if op < 0.5 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op < 0.7:
            b = b[:rng.randrange(len(b) + 1)]
        else:
            b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
    if rng.random() < 0.7 and len(b) >= 28:   # mostly keep the checksum right, to reach the sections
        b[24:28] = struct.pack("<I", crc32c(bytes(b[28:])))
    try:
        cur.execute("SELECT scfrisk.model_info(%s)", (psycopg2.Binary(bytes(b)),))
        cur.fetchone()
        outcomes["ok"] += 1
    except psycopg2.Error as e:
        if e.pgcode in outcomes:
            outcomes[e.pgcode] += 1
        else:
            unexpected.append("%s %s" % (e.pgcode, e.pgerror))
            if conn.closed:
                break
t.ok(not unexpected and not conn.closed,
     "1500 mutated models: only decodes, XX001 or 0A000 (%s)" % outcomes, "\n".join(unexpected[:5]))

# Extension lifecycle
cur.execute("SELECT default_version, installed_version FROM pg_available_extensions WHERE name = 'scfrisk'")
default, installed = cur.fetchone()
t.ok(default == installed, "installed version is the default (%s)" % default)
cur.execute("ALTER EXTENSION scfrisk UPDATE")
cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'scfrisk'")
t.ok(cur.fetchone()[0] == installed, "ALTER EXTENSION UPDATE to the installed version keeps it")
cur.execute("DROP TABLE models")
cur.execute("DROP EXTENSION scfrisk")
cur.execute("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'scfrisk'")
t.ok(cur.fetchone()[0] == 0, "DROP EXTENSION removes every scfrisk function")
cur.execute("CREATE EXTENSION scfrisk")
cur.execute("SELECT scfrisk.model_kind(decode('5343465201000500000000000000000000000000000000000000000000', 'hex'))")
t.ok(cur.fetchone()[0] == "qrgmm_linear", "re-created extension works")

conn.close()
t.done()
