"""Issue 13 item 11: scfrisk's settings and when the library is loaded.

docs/core.md "Load the library at session start": with the library loaded at
session start (session_preload_libraries) a misspelt or out-of-range scfrisk
setting is an error when it is set; without, PostgreSQL cannot know the
settings before the first scfrisk call, and this test holds it to what the
page says happens then.  Superuser only (session_preload_libraries is SUSET).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

t = Tap()
setup = psycopg2.connect("")
setup.autocommit = True
setup.cursor().execute("CREATE EXTENSION IF NOT EXISTS scfrisk")


def sqlstate(cur, sql):
    try:
        cur.execute(sql)
        return "ok"
    except psycopg2.Error as e:
        return e.pgcode


# preloaded: every setting is checked when it is set
pre = psycopg2.connect("", options="-c session_preload_libraries=scfrisk")
pre.autocommit = True
c = pre.cursor()
t.ok(sqlstate(c, "SHOW scfrisk.threads") == "ok", "preloaded: SHOW scfrisk.threads before any scfrisk call")
t.ok(sqlstate(c, "SET scfrisk.treads = 2") == "42602", "preloaded: a misspelt scfrisk setting is 42602")
t.ok(sqlstate(c, "SET scfrisk.threads = 65") == "22023", "preloaded: scfrisk.threads = 65 is 22023")
t.ok(sqlstate(c, "SET scfrisk.max_memory_mb = -1") == "22023", "preloaded: a negative memory cap is 22023")
c.execute("SELECT setting, unit FROM pg_settings WHERE name = 'scfrisk.max_memory_mb'")
t.ok(c.fetchone() == ("1024", "MB"), "preloaded: the memory cap defaults to 1024 MB")
pre.close()

# not preloaded: what docs/core.md says happens before the first call
lazy = psycopg2.connect("")
lazy.autocommit = True
c = lazy.cursor()
t.ok(sqlstate(c, "SHOW scfrisk.threads") == "42704", "not loaded: SHOW scfrisk.threads is 42704")
t.ok(sqlstate(c, "SET scfrisk.treads = 2") == "ok", "not loaded: a misspelt setting becomes a placeholder")
t.ok(sqlstate(c, "SET scfrisk.threads = 65") == "ok", "not loaded: scfrisk.threads = 65 is kept as text")
del lazy.notices[:]
c.execute("SELECT scfrisk.build_info() ->> 'threads'")
threads = c.fetchone()[0]
warned = " ".join(lazy.notices)
t.ok("scfrisk.treads" in warned and "WARNING" in warned, "not loaded: the first call warns about the placeholder",
     warned)
t.ok(threads == "1", "not loaded: the out-of-range value is dropped for the default at the first call", threads)
t.ok(sqlstate(c, "SHOW scfrisk.treads") == "42704", "not loaded: the placeholder is gone after the first call")
t.ok(sqlstate(c, "SET scfrisk.treads = 2") == "42602", "once loaded, a misspelt setting is 42602")
lazy.close()
t.done()
