"""Security layer: nobody can hold the registry's serialisation hostage (issue 13 item 3).

Before the fix, saves of a name were numbered under the advisory lock
(1396917842, hashtext(name)), a key any role can take: a function called from a
stored training query took it with pg_advisory_lock at session level, so after the
owner's CALL scfrisk.retrain the owner's session kept it and every later
save_model of that name from other sessions hung until that session closed.

Now saves are numbered under a row lock of a registry table that only the
registry's owner can lock (docs/security.md), held for the save's own transaction.
This test, with three sessions and a statement_timeout as a guard against hanging:

- replays the attack: the trainer's stored query takes the old key at session
  level during the owner's retrain; a save_model of that name from another session
  completes while the owner's session stays open;
- the trainer takes the same key in its own session: saves and deploys of the name
  from other sessions still complete;
- a stored query that tries to write the registry (save_model from inside the
  query) is refused (42501) and the retrain saves nothing.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
import psycopg2  # noqa: E402
from sftap import Tap  # noqa: E402

T = Tap()
SUFFIX = str(os.getpid())
TRAINER = "sfsec_lk_trainer_" + SUFFIX
OWNER = "sfsec_lk_owner_" + SUFFIX
KEY = 1396917842


def connect(user=None, timeout_ms=5000):
    c = psycopg2.connect(user=user) if user else psycopg2.connect()
    c.autocommit = True
    with c.cursor() as cur:
        # a guard against hanging forever, not a timing assertion
        cur.execute("SET statement_timeout = %s", (timeout_ms,))
    return c


def run(conn, sql, args=None):
    with conn.cursor() as cur:
        try:
            cur.execute(sql, args)
            return None, None, (cur.fetchall() if cur.description else None)
        except psycopg2.Error as e:
            return e.pgcode, str(e).strip(), None


SETUP = """
CREATE EXTENSION IF NOT EXISTS scfrisk;
CREATE ROLE {t} LOGIN;
CREATE ROLE {o} LOGIN IN ROLE {t};
GRANT USAGE ON SCHEMA scfrisk TO {t};
GRANT EXECUTE ON FUNCTION scfrisk.model(text), scfrisk.save_model(text, bytea, jsonb),
    scfrisk.register_training(text, text, text, jsonb, jsonb) TO {t};
GRANT EXECUTE ON FUNCTION scfrisk.deploy(text, integer), scfrisk.rollback(text),
    scfrisk.retire(text, integer) TO {o};
GRANT EXECUTE ON PROCEDURE scfrisk.retrain(text) TO {o};
CREATE SCHEMA sfsec_lk AUTHORIZATION {t};
CREATE TABLE sfsec_lk.cls AS
SELECT i, ARRAY[((i::bigint * 7919) % 1000) / 1000.0, ((i::bigint * 104729) % 997) / 997.0]::float8[] AS features,
       CASE WHEN ((i::bigint * 7919) % 1000) / 1000.0 + ((i * 31) % 100) / 200.0 > 0.7 THEN 1 ELSE 0 END::float8 AS label
FROM generate_series(1, 800) AS i;
ALTER TABLE sfsec_lk.cls OWNER TO {t};
"""

GRAB = """
CREATE FUNCTION sfsec_lk.grab(model text) RETURNS boolean LANGUAGE sql VOLATILE AS
$$ SELECT pg_advisory_lock(%d, hashtext(model)) IS NOT NULL $$
""" % KEY

SAVE_INSIDE = """
CREATE FUNCTION sfsec_lk.save_inside(model text) RETURNS boolean LANGUAGE sql VOLATILE AS
$$ SELECT scfrisk.save_model(model, (SELECT scfrisk.logreg_train(features, label, '{}') FROM sfsec_lk.cls)) > 0 $$
"""


def main():
    su = connect()
    code, msg, _ = run(su, SETUP.format(t=TRAINER, o=OWNER))
    T.ok(code is None, "setup: roles, data, grants", msg)
    try:
        tests(su)
    finally:
        run(su, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN (%s, %s)", (TRAINER, OWNER))
        run(su, "DROP SCHEMA sfsec_lk CASCADE")
        run(su, "DELETE FROM scfrisk.registry_history WHERE name LIKE 'sfsec_lk%'")
        run(su, "DELETE FROM scfrisk.registry_training WHERE name LIKE 'sfsec_lk%'")
        run(su, "DELETE FROM scfrisk.registry_version WHERE name LIKE 'sfsec_lk%'")
        run(su, "DELETE FROM scfrisk.registry_model WHERE name LIKE 'sfsec_lk%'")
        for r in (OWNER, TRAINER):
            run(su, "DROP OWNED BY %s" % r)
            run(su, "DROP ROLE IF EXISTS %s" % r)
    T.done()


def tests(su):
    trainer = connect(TRAINER)
    owner = connect(OWNER, timeout_ms=120000)
    other = connect(TRAINER)
    code, msg, _ = run(trainer, GRAB)
    T.ok(code is None, "the trainer writes a function that takes the registry's old lock key", msg)
    code, msg, _ = run(trainer, "SELECT scfrisk.register_training('sfsec_lk_pd', 'logreg', "
                       "'SELECT features, label FROM sfsec_lk.cls WHERE sfsec_lk.grab(''sfsec_lk_pd'')')")
    T.ok(code is None, "and registers a training query that calls it", msg)

    code, msg, _ = run(owner, "CALL scfrisk.retrain('sfsec_lk_pd')")
    T.ok(code is None, "the owner's retrain runs the stored query", msg)
    rows = run(su, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                   "AND objid = hashtext('sfsec_lk_pd')::oid", (KEY,))[2]
    T.ok(rows is not None and rows[0][0] >= 1,
         "the stored query's session-level lock is still held by the owner's open session", rows)
    code, msg, rows = run(other, "SELECT scfrisk.save_model('sfsec_lk_pd', "
                          "(SELECT scfrisk.logreg_train(features, label, '{\"C\": 2}') FROM sfsec_lk.cls))")
    T.ok(code is None and rows[0][0] == 2,
         "a save_model of that name from another session completes (version 2)", "got %s: %s" % (code, msg))

    # the same key taken in a session of the trainer's own
    run(owner, "SELECT pg_advisory_unlock_all()")
    code, msg, _ = run(trainer, "SELECT pg_advisory_lock(%s, hashtext('sfsec_lk_pd'))", (KEY,))
    T.ok(code is None, "the trainer holds the key in its own session", msg)
    code, msg, rows = run(other, "SELECT scfrisk.save_model('sfsec_lk_pd', scfrisk.model('sfsec_lk_pd'))")
    T.ok(code is None, "saves still complete", "got %s: %s" % (code, msg))
    code, msg, _ = run(owner, "SELECT scfrisk.deploy('sfsec_lk_pd', 2)")
    T.ok(code is None, "and so do deploys", "got %s: %s" % (code, msg))
    run(trainer, "SELECT pg_advisory_unlock_all()")

    # a stored query that writes the registry itself
    code, msg, _ = run(trainer, SAVE_INSIDE)
    run(su, "GRANT EXECUTE ON FUNCTION scfrisk.logreg_train(float8[], float8, jsonb) TO PUBLIC")
    code, msg, _ = run(trainer, "SELECT scfrisk.register_training('sfsec_lk_pd', 'logreg', "
                       "'SELECT features, label FROM sfsec_lk.cls WHERE sfsec_lk.save_inside(''sfsec_lk_pd'')')")
    T.ok(code is None, "a training query that calls save_model is registered", msg)
    before = run(su, "SELECT count(*) FROM scfrisk.registry_version WHERE name = 'sfsec_lk_pd'")[2][0][0]
    code, msg, _ = run(owner, "CALL scfrisk.retrain('sfsec_lk_pd')")
    T.ok(code == "42501", "the registry refuses writes from inside a stored query (42501)",
         "got %s: %s" % (code, msg))
    after = run(su, "SELECT count(*) FROM scfrisk.registry_version WHERE name = 'sfsec_lk_pd'")[2][0][0]
    T.ok(before == after, "and the retrain saved nothing", "%s versions before, %s after" % (before, after))
    for c in (trainer, owner, other):
        c.close()


if __name__ == "__main__":
    main()
