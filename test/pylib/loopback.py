"""Throwaway PostgreSQL clusters on 127.0.0.1 for the multi-server tests.

The shards of test/session/test_scale_out.py and test_sharded_train.py (and
bench/sharded_train.py): each Shard is an initdb'd cluster of the server copy
scripts/pgroot.sh names (SCFRISK_PGROOT), on a free port, trust auth, made
with fsync off; shards() makes several and removes them when the process
exits, whether or not the test passed.
"""
import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import psycopg2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PG_CONFIG = os.environ.get("PG_CONFIG", "/usr/lib/postgresql/15/bin/pg_config")
PGROOT = subprocess.check_output([os.path.join(ROOT, "scripts", "pgroot.sh")]).decode().strip()
BINDIR = PGROOT + subprocess.check_output([PG_CONFIG, "--bindir"]).decode().strip()
AS_USER = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Shard:
    """A throwaway PostgreSQL cluster on 127.0.0.1 with scfrisk installed."""

    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="scfrisk-shard-")
        os.chmod(self.dir, 0o755)
        if AS_USER:
            shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self.up = False
        subprocess.run(AS_USER + [BINDIR + "/initdb", "-D", self.dir + "/data", "-U", "postgres",
                                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(self.dir + "/data/postgresql.conf", "a") as f:
            f.write("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "max_connections = 20\n" % (self.port, self.dir))
        self.start()

    def start(self):
        subprocess.run(AS_USER + [BINDIR + "/pg_ctl", "-D", self.dir + "/data", "-l",
                                  self.dir + "/server.log", "-w", "-t", "60", "start"],
                       check=True, stdout=subprocess.DEVNULL)
        self.up = True

    def stop(self):
        if self.up:
            subprocess.run(AS_USER + [BINDIR + "/pg_ctl", "-D", self.dir + "/data", "-m", "immediate",
                                      "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.up = False

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self, dbname="postgres"):
        c = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname)
        c.autocommit = True
        return c


def shards(n):
    """n shard clusters named shard_1 .. shard_n, removed at exit."""
    made = []
    atexit.register(lambda: [s.remove() for s in made])
    for i in range(n):
        made.append(Shard("shard_%d" % (i + 1)))
    return made


def sqlstate_of(cur, sql, args=None):
    """Run sql; return (SQLSTATE, message) of its error, or (None, None)."""
    try:
        cur.execute(sql, args)
        return None, None
    except psycopg2.Error as e:
        return e.pgcode, (e.pgerror or "").strip()


def attach(cur, shards, prefix="shard", options=""):
    """On the coordinator of cur: postgres_fdw and scfrisk, and per shard a foreign
    server <prefix>_<i> (extensions 'scfrisk', async_capable, any further
    options) with a user mapping for the current user."""
    cur.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
    cur.execute("CREATE EXTENSION IF NOT EXISTS scfrisk")
    for i, sh in enumerate(shards):
        cur.execute("CREATE SERVER %s_%d FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', "
                    "port '%d', dbname 'postgres', extensions 'scfrisk', async_capable 'true'%s)"
                    % (prefix, i + 1, sh.port, options))
        cur.execute("CREATE USER MAPPING FOR CURRENT_USER SERVER %s_%d OPTIONS (user 'postgres')"
                    % (prefix, i + 1))


# scfrisk and u(k, s), a uniform number in (0, 1) from a hash of (k, s): the same rows wherever it runs
HASH_U = """
CREATE EXTENSION IF NOT EXISTS scfrisk;
CREATE FUNCTION u(k int, s int) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
	SELECT ((('x' || substr(md5(k::text || ':' || s::text), 1, 13))::bit(52)::bigint)::float8 + 0.5)
		/ 4503599627370496.0
$$;
"""


def sharded_table(cur, shards, segments, rows, gen, table, columns):
    """Segment i's rows on shard i: HASH_U, then gen (a CREATE TABLE loans_local ...
    with %(seg)s, %(shift)s = 0.3 i and the keys %(lo)s to %(hi)s, consecutive
    over the shards). On the coordinator (cur, after attach): table, list-
    partitioned by seg over foreign partitions table_<seg> of loans_local, and
    table_all, a local copy of the union of its rows (the single-server truth)."""
    lo = 1
    for i, (seg, sh) in enumerate(zip(segments, shards)):
        c = sh.connect()
        c.cursor().execute(HASH_U + gen, {"seg": seg, "shift": 0.3 * i, "lo": lo, "hi": lo + rows[i] - 1})
        lo += rows[i]
        c.close()
    cur.execute("CREATE TABLE %s (%s) PARTITION BY LIST (seg)" % (table, columns))
    for i, seg in enumerate(segments):
        cur.execute("CREATE FOREIGN TABLE %s_%s PARTITION OF %s FOR VALUES IN ('%s') SERVER shard_%d "
                    "OPTIONS (table_name 'loans_local')" % (table, seg, table, seg, i + 1))
    cur.execute("CREATE TABLE %s_all AS SELECT * FROM %s" % (table, table))


# the remote query of a sharded training's step: the one-row view, never the partition
STEP_SQL = re.compile(r"Remote SQL: SELECT \d+, scfrisk\.xgb_shard_step\(\d+::bigint, \$1::bytea\) "
                      r"FROM scfrisk\.shard_unit")


def explained(co, cur, sql):
    """Run sql with auto_explain logging every nested plan (verbose) to the client of
    connection co: (the plans, one notice each; the Remote SQL lines, for a diagnostic)."""
    co.notices = []  # every notice, not the last 50
    cur.execute("LOAD 'auto_explain'")
    cur.execute("SET auto_explain.log_min_duration = 0")
    cur.execute("SET auto_explain.log_nested_statements = on")
    cur.execute("SET auto_explain.log_verbose = on")
    cur.execute("SET client_min_messages = log")
    cur.execute(sql)
    cur.execute("RESET client_min_messages")
    cur.execute("SET auto_explain.log_min_duration = -1")
    notices = list(co.notices)
    remote = "\n".join(line.strip()[:160] for n in notices for line in n.splitlines() if "Remote SQL" in line)
    return notices, remote


ACTIVE = ("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' "
          "AND pid <> pg_backend_pid()")


def check_cancel(t, cur, shard, sql, what):
    """Three TAP checks: sql (a long training) runs on a connection of its own
    until shard has a client backend, then pg_cancel_backend through cur on the
    coordinator: the statement ends with 57014 and shard runs nothing more."""
    work = psycopg2.connect("")
    work.autocommit = True
    wcur = work.cursor()
    wcur.execute("SELECT pg_backend_pid()")
    wpid = wcur.fetchone()[0]
    result = {}

    def run():
        try:
            wcur.execute(sql)
            result["outcome"] = "finished"
        except psycopg2.Error as e:
            result["outcome"] = e.pgcode

    th = threading.Thread(target=run)
    th.start()
    probe = shard.connect()
    pcur = probe.cursor()
    deadline = time.time() + 60
    seen = 0
    while time.time() < deadline and th.is_alive():
        pcur.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                     "AND pid <> pg_backend_pid()")
        if pcur.fetchone()[0] > 0:
            time.sleep(1.0)  # well into the rounds
            seen = 1
            break
        time.sleep(0.05)
    t.ok(seen > 0 and th.is_alive(), "%s is under way on %s" % (what, shard.name), result)
    cur.execute("SELECT pg_cancel_backend(%s)", (wpid,))
    th.join(120)
    t.ok(result.get("outcome") == "57014", "the coordinator's training is cancelled (%s)" % result.get("outcome"))
    deadline = time.time() + 60
    while time.time() < deadline:
        pcur.execute(ACTIVE)
        if pcur.fetchone()[0] == 0:
            break
        time.sleep(0.1)
    pcur.execute(ACTIVE)
    t.ok(pcur.fetchone()[0] == 0, "postgres_fdw forwards the cancel: %s runs nothing more" % shard.name)
    probe.close()
    work.close()


def check_down(t, cur, shard, server, insert_sql, args=None):
    """Stop shard; insert_sql (an INSERT INTO models of a sharded training) must
    fail with a connection error (08xxx) naming server, and models stay empty."""
    shard.stop()
    st, msg = sqlstate_of(cur, insert_sql, args)
    cur.execute("SELECT count(*) FROM models")
    t.ok(st is not None and st.startswith("08") and server in msg and cur.fetchone()[0] == 0,
         "a shard that is down: %s naming %s, and no model saved (%s)"
         % (st, server, msg.splitlines()[0] if msg else msg))
