"""The docs layer: every ```sql block of README.md and docs/*.md runs as written.

The demo is loaded once into a template database, the way scripts/demo.sh
loads it (the script itself runs, against this server: the German credit
data, generate_demo_data, the demo's models and views).  Each page then gets
a database copied from that template and one psql session, so a page may
build on its earlier blocks but never on another page.  Blocks run in page
order; one TAP check per block:

- every statement succeeds, except those a comment line `-- error: SQLSTATE`
  declares: the block's errors must be exactly the declared SQLSTATEs, in
  order (psql reports each error with its SQLSTATE under VERBOSITY verbose and
  the line of the page script it came from, which names the block);
- a block prints at most MAX_OUTPUT bytes (no model dumped as hex).

Signatures and other text that is not meant to run use another fence
(```text).  The layer runs in a throwaway cluster of its own with pg_cron
preloaded (cron.database_name is the registry page's database), so that
docs/registry.md's pg_cron section runs too; it ignores the database
scripts/test.sh hands it.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from sftap import Tap  # noqa: E402

TEMPLATE = "docs_demo"
MAX_OUTPUT = 64 * 1024
CRON_PAGE = "registry"          # the page whose database pg_cron serves
FENCE = re.compile(r"^```(\S*)\s*$")
ERROR_DECL = re.compile(r"^\s*--\s*error:\s*([0-9A-Z]{5})\s*$")
ERROR_LINE = re.compile(r"^psql:(.+?):(\d+): ERROR:  ([0-9A-Z]{5}): (.*)$")
# psql's own errors and fatal ones carry no SQLSTATE: never declared, always a failure
OTHER_ERROR = re.compile(r"^psql:(.+?):(\d+): (error|FATAL|PANIC):?\s*(.*)$")


def pages():
    """README.md, then docs/*.md in name order."""
    docs = sorted(os.path.join(ROOT, "docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
                  if f.endswith(".md"))
    return [os.path.join(ROOT, "README.md")] + docs


def sql_blocks(path):
    """[(first line number, text)] of the ```sql blocks of a page."""
    blocks, cur, start = [], None, 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = FENCE.match(line.rstrip("\n"))
            if cur is None:
                if m and m.group(1) == "sql":
                    cur, start = [], n + 1
            elif line.rstrip("\n").startswith("```"):
                blocks.append((start, "".join(cur)))
                cur = None
            else:
                cur.append(line)
    return blocks


def page_db(path):
    return "docs_" + re.sub(r"[^a-z0-9]", "_", os.path.basename(path)[:-3].lower())


def psql(db, *args, **kw):
    return subprocess.run(["psql", "-X", "-d", db] + list(args), capture_output=True, text=True,
                          timeout=kw.pop("timeout", 300), cwd=kw.pop("cwd", ROOT), **kw)


def run_page(t, path, outdir):
    """Run the blocks of one page in one psql session; one check per block."""
    blocks = sql_blocks(path)
    if not blocks:
        return
    name = os.path.relpath(path, ROOT)
    db = page_db(path)
    if db != "docs_" + CRON_PAGE:     # that one is made early, pg_cron is connected to it
        psql("postgres", "-qc", 'DROP DATABASE IF EXISTS "%s"' % db)
        r = psql("postgres", "-qc", 'CREATE DATABASE "%s" TEMPLATE "%s"' % (db, TEMPLATE))
    else:
        r = psql(db, "-qc", "SELECT 1")
    if r.returncode != 0:
        for start, _ in blocks:
            t.ok(False, "%s:%d runs as written" % (name, start), "no page database: " + r.stderr)
        return
    # One script: per block, its output to a file of its own, then the text.
    script = ["\\set VERBOSITY verbose", "\\pset pager off"]
    spans = []          # (first script line, last script line) per block
    outs = []
    for i, (start, text) in enumerate(blocks):
        out = os.path.join(outdir, "%s_%d.out" % (db, i))
        outs.append(out)
        script.append("\\o " + out)
        first = len(script) + 1
        script.extend(text.rstrip("\n").split("\n"))
        # a block left open (no final semicolon) must not swallow the next one
        script.append(";")
        spans.append((first, len(script)))
    script.append("\\o")
    sfile = os.path.join(outdir, db + ".sql")
    with open(sfile, "w") as f:
        f.write("\n".join(script) + "\n")
    r = psql(db, "-f", sfile, timeout=600)
    errors = [[] for _ in blocks]
    stray = []
    for line in r.stderr.splitlines():
        m = ERROR_LINE.match(line) or OTHER_ERROR.match(line)
        if not m:
            continue
        ln = int(m.group(2))
        k = next((i for i, (a, b) in enumerate(spans) if a <= ln <= b), None)
        if k is None:
            stray.append(line)
        else:
            errors[k].append((ln - spans[k][0] + blocks[k][0], m.group(3), m.group(4)))
    for i, (start, text) in enumerate(blocks):
        declared = [m.group(1) for m in map(ERROR_DECL.match, text.split("\n")) if m]
        got = [code for _, code, _ in errors[i]]
        ran = os.path.exists(outs[i])     # psql opened its output: it reached the block
        size = os.path.getsize(outs[i]) if ran else 0
        detail = ["declared errors %s, got %s" % (declared, got)]
        if not ran:
            detail.append("the block never ran (psql stopped before it)")
        detail += ["line %d: %s %s" % e for e in errors[i]]
        if size > MAX_OUTPUT:
            detail.append("prints %d bytes (at most %d)" % (size, MAX_OUTPUT))
        if i == len(blocks) - 1:
            detail += stray
            if r.returncode not in (0, 1):
                detail.append("psql exited %d: %s" % (r.returncode, r.stderr[-2000:]))
        ok = ran and got == declared and size <= MAX_OUTPUT and \
            (i < len(blocks) - 1 or (not stray and r.returncode in (0, 1)))
        t.ok(ok, "%s:%d runs as written%s" % (name, start,
                                               " (errors %s as declared)" % ", ".join(declared)
                                               if declared else ""),
             "\n".join(detail))


def load_demo(t):
    """The demo, once, into the template: scripts/demo.sh against this server."""
    env = dict(os.environ, SCFRISK_DEMO_DB=TEMPLATE)
    r = subprocess.run([os.path.join(ROOT, "scripts", "demo.sh")], env=env, capture_output=True,
                       text=True, timeout=600, cwd=ROOT)
    out = r.stdout + r.stderr
    t.ok(r.returncode == 0, "scripts/demo.sh loads the demo into database %s" % TEMPLATE, out[-3000:])
    t.ok("could not change directory" not in out and "scfrisk demo finished" in out,
         "scripts/demo.sh against a server: no stray directory errors, a closing line", out[-1500:])
    t.ok("== setup" not in out and "== build" not in out,
         "scripts/demo.sh with PGHOST set installs nothing and builds nothing", out[:1500])
    return r.returncode == 0


SELFTEST_PAGE = """# the layer's own check
```sql
-- error: 22023
SELECT scfrisk.mlp_train(ARRAY[1.0]::float8[], 1.0, '{"epochs": -1}');
SELECT 1;
```
```text
SELECT * FROM not_run;
```
```sql
-- error: 22023
SELECT 1;
```
```sql
SELECT * FROM no_such_table;
```
```sql
SELECT repeat('x', 70000);
```
```sql
\\set x
\\nosuchcommand
```
"""


class Collect:
    """A Tap stand-in that keeps the results (the layer checking itself)."""

    def __init__(self):
        self.results = []

    def ok(self, cond, what, detail=None):
        self.results.append(bool(cond))


def selftest(t, outdir):
    """The layer fails what it must: an undeclared error, a declared one missing, a flood."""
    page = os.path.join(outdir, "selftest.md")
    with open(page, "w") as f:
        f.write(SELFTEST_PAGE)
    c = Collect()
    run_page(c, page, outdir)
    t.ok(c.results == [True, False, False, False, False],
         "the layer passes a declared error and fails a missing one, an undeclared one, "
         "a block printing too much and a psql error; text fences do not run", str(c.results))


def child():
    t = Tap()
    if load_demo(t):
        # pg_cron runs in one database, made before its page runs
        psql("postgres", "-qc", 'CREATE DATABASE "%s" TEMPLATE "%s"' % ("docs_" + CRON_PAGE, TEMPLATE))
        with tempfile.TemporaryDirectory(prefix="scfrisk-docs-") as outdir:
            os.chmod(outdir, 0o777)
            selftest(t, outdir)
            for p in pages():
                t0 = time.time()
                run_page(t, p, outdir)
                print("# %s ran in %.1f s" % (os.path.relpath(p, ROOT), time.time() - t0), flush=True)
    print("# docs layer: %d passed, %d failed" % (t.n - t.failed, t.failed), flush=True)
    t.done()


def main():
    """Start a throwaway cluster with pg_cron preloaded and run child() in it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER")}
    env["SCFRISK_CLUSTER_CONF"] = ("shared_preload_libraries = 'pg_cron'\n"
                                   "cron.database_name = 'docs_%s'\n"
                                   "cron.use_background_workers = on\n"
                                   "max_worker_processes = 16\n" % CRON_PAGE)
    r = subprocess.run([os.path.join(ROOT, "scripts", "cluster.sh"), sys.executable,
                        os.path.abspath(__file__), "--child"], env=env, timeout=1200)
    sys.exit(r.returncode)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child()
    else:
        main()
