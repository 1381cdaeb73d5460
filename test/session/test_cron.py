"""pg_cron for real: the scheduled retrain of docs/registry.md, as documented.

In a throwaway cluster of its own with shared_preload_libraries = 'pg_cron'
(pg_cron 1.4 connecting over TCP to localhost, its default), this test runs
the blocks of docs/registry.md as they are written: "Roles" (the three
roles), the pg_cron setup (LOGIN, USAGE on schema cron), then as the trainer
registers a training query and as the owner schedules `CALL
scfrisk.retrain('pd_model')` with the page's block.  pg_cron 1.4 has no second
schedules, so a superuser makes the job due every minute (cron.alter_job) and
the test waits for the next minute.  Checks: the run succeeded; version 1 was
saved and promoted (model_versions, deployed_models); the history rows
`retrain` and `promote` name the job's role risk_owner; the page's last
block reads what ran and unschedules the job, after which cron.job is empty.
"""
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from sftap import Tap  # noqa: E402

PAGE = os.path.join(ROOT, "docs", "registry.md")


def page_block(marker):
    """The ```sql block of docs/registry.md that contains marker."""
    text = open(PAGE, encoding="utf-8").read()
    blocks = re.findall(r"^```sql\n(.*?)^```", text, re.S | re.M)
    found = [b for b in blocks if marker in b]
    if len(found) != 1:
        raise AssertionError("docs/registry.md: %d sql blocks contain %r" % (len(found), marker))
    return found[0]


def psql(sql, role=None):
    """Run sql in one session (as role, with SET ROLE); (ok, output)."""
    if role:
        sql = "SET ROLE %s;\n%s" % (role, sql)
    r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At"], input=sql,
                       capture_output=True, text=True, timeout=120)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def child():
    t = Tap()
    ok, out = psql("""
CREATE EXTENSION scfrisk;
CREATE TABLE public.cron_train AS
SELECT i, ARRAY[((i * 7919) % 1000) / 1000.0, ((i * 104729) % 997) / 997.0]::float8[] AS features,
       (((i * 7919) % 1000) / 1000.0 * 2 - ((i * 104729) % 997) / 997.0
        + ((i * 31) % 100) / 100.0 > 1)::int::float8 AS label
FROM generate_series(1, 2000) AS i;
""")
    t.ok(ok, "scfrisk and a training table", out)
    ok, out = psql(page_block("CREATE ROLE risk_reader"))
    t.ok(ok, "docs/registry.md Roles block runs", out)
    ok, out = psql("GRANT SELECT ON public.cron_train TO risk_trainer;")
    ok2, out2 = psql("SELECT scfrisk.register_training('pd_model', 'logreg', "
                     "'SELECT features, label FROM public.cron_train', '{\"C\": 1}');", role="risk_trainer")
    t.ok(ok and ok2, "the trainer registers the training query", out + out2)
    ok, out = psql(page_block("CREATE EXTENSION IF NOT EXISTS pg_cron"))
    t.ok(ok, "docs/registry.md pg_cron setup block runs (LOGIN, USAGE on schema cron)", out)
    ok, out = psql(page_block("cron.schedule("))
    t.ok(ok and "pd_model_nightly" not in out and "risk_owner" in out,
         "docs/registry.md schedule block runs: the job belongs to risk_owner", out)
    # pg_cron 1.4: minute schedules only, so the job becomes due at the next minute
    # (cron.alter_job is granted to superusers only in 1.4; the job keeps its role)
    ok, out = psql("SELECT cron.alter_job(jobid, schedule := '* * * * *') FROM cron.job "
                   "WHERE jobname = 'pd_model_nightly'; "
                   "SELECT username FROM cron.job WHERE jobname = 'pd_model_nightly';")
    t.ok(ok and out.endswith("risk_owner"), "the job made due every minute, still risk_owner's", out)
    status, deadline = None, time.time() + 150
    while time.time() < deadline:
        ok, out = psql("SELECT d.status || '|' || coalesce(d.return_message, '') FROM cron.job_run_details d "
                       "JOIN cron.job j USING (jobid) WHERE j.jobname = 'pd_model_nightly' "
                       "AND d.status IN ('succeeded', 'failed') ORDER BY d.runid LIMIT 1;")
        if ok and out:
            status = out
            break
        time.sleep(1)
    t.ok(status is not None and status.startswith("succeeded|"),
         "the scheduled CALL scfrisk.retrain ran and succeeded", "run: %r" % (status,))
    ok, out = psql("SELECT json_agg(json_build_object('v', version, 's', status) ORDER BY version) "
                   "FROM scfrisk.model_versions WHERE name = 'pd_model';")
    versions = json.loads(out) if ok and out else None
    t.ok(versions == [{"v": 1, "s": "deployed"}], "version 1 saved and deployed by the job", out)
    ok, out = psql("SELECT json_agg(json_build_object('a', action, 'by', by, 'to', to_version) ORDER BY id) "
                   "FROM scfrisk.model_history WHERE name = 'pd_model' AND action IN ('retrain', 'promote');")
    hist = json.loads(out) if ok and out else []
    t.ok([h["a"] for h in hist] == ["retrain", "promote"] and all(h["by"] == "risk_owner" for h in hist)
         and hist[-1]["to"] == 1,
         "history: retrain and promote of version 1 by the job's role risk_owner", out)
    ok, out = psql(page_block("cron.unschedule("))
    t.ok(ok and "succeeded" in out, "docs/registry.md last block reads the run and unschedules", out)
    ok, out = psql("SELECT count(*) FROM cron.job;")
    t.ok(ok and out == "0", "no job left after unschedule", out)
    t.done()


def main():
    if not os.path.exists("/usr/lib/postgresql/15/lib/pg_cron.so"):
        print("not ok 1 - pg_cron is installed (scripts/setup.sh installs postgresql-15-cron)")
        print("1..1")
        sys.exit(1)
    env = {k: v for k, v in os.environ.items() if k not in ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER")}
    env["SCFRISK_CLUSTER_CONF"] = ("shared_preload_libraries = 'pg_cron'\n"
                                   "listen_addresses = 'localhost'\n"
                                   "cron.database_name = 'postgres'\n")
    r = subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), sys.executable,
                        os.path.abspath(__file__), "--child"], env=env, timeout=400)
    sys.exit(r.returncode)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child()
    else:
        main()
