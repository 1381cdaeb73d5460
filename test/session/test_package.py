"""The Debian package: make deb, then the pgTAP suite against the installed files.

`make deb` builds postgresql-15-scfrisk (debian/, dpkg-buildpackage in a copy
of the tree under build/deb/).  The package's fields and file list are
checked; then its files are installed with dpkg-deb -x into a private copy of
the PostgreSQL 15 server files (scripts/pgroot.sh) from which every scfrisk
file was removed first, so nothing of the build tree or of another install
can be what runs; a throwaway cluster of that copy runs the pgTAP suite
(test/pgtap/*.sql, one check per file here) and a fresh CREATE EXTENSION plus
an update from 0.1.0 with the packaged scripts.  The system's PostgreSQL
installation is not touched.  META.json is checked to describe this version.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from sftap import Tap  # noqa: E402

PG_CONFIG = "/usr/lib/postgresql/15/bin/pg_config"


def run(cmd, env=None, timeout=900):
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def ext_version():
    for line in open(os.path.join(ROOT, "Makefile")):
        m = re.match(r"^EXTVERSION\s*=\s*(\S+)", line)
        if m:
            return m.group(1)
    return None


def main():
    t = Tap()
    version = ext_version()
    meta = json.load(open(os.path.join(ROOT, "META.json")))
    t.ok(meta.get("version") == version and meta["provides"]["scfrisk"]["version"] == version
         and meta["provides"]["scfrisk"]["file"] == "sql/scfrisk--%s.sql" % version,
         "META.json describes scfrisk %s" % version, json.dumps(meta.get("provides")))

    # dpkg-buildpackage builds serially unless told otherwise: the compile is
    # most of this test's time, so let debhelper use every core (the package
    # is the same; DEB_BUILD_OPTIONS already set by the caller wins)
    deb_env = dict(os.environ)
    deb_env.setdefault("DEB_BUILD_OPTIONS", "parallel=%d" % (os.cpu_count() or 1))
    rc, out = run(["make", "-s", "deb", "PG_CONFIG=" + PG_CONFIG], env=deb_env)
    debs = glob.glob(os.path.join(ROOT, "build", "deb", "postgresql-15-scfrisk_*.deb"))
    if not t.ok(rc == 0 and len(debs) == 1, "make deb builds postgresql-15-scfrisk", out[-3000:]):
        t.done()
    deb = debs[0]
    _, fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"])
    t.ok("Package: postgresql-15-scfrisk" in fields and "postgresql-15" in fields.split("Depends:")[-1]
         and "libopenblas" in fields, "package fields: name, depends on postgresql-15 and OpenBLAS", fields)
    _, files = run(["dpkg-deb", "-c", deb])
    lib = "/usr/lib/postgresql/15/lib/"
    share = "/usr/share/postgresql/15/extension/"
    want = [lib + "scfrisk.so", share + "scfrisk.control", share + "scfrisk--%s.sql" % version,
            share + "scfrisk--0.1.0.sql", share + "scfrisk--0.1.0--%s.sql" % version]
    missing = [w for w in want if "." + w not in files]
    t.ok(not missing, "the package holds the library, control file, install and update scripts",
         "missing: %s\n%s" % (missing, files[-2000:]))

    tmp = tempfile.mkdtemp(prefix="scfrisk-pkg-")
    try:
        os.chmod(tmp, 0o755)
        root = os.path.join(tmp, "root")
        env = {k: v for k, v in os.environ.items() if k not in ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER")}
        env["SCFRISK_PGROOT"] = root
        env["PG_CONFIG"] = PG_CONFIG
        rc, out = run([os.path.join(ROOT, "scripts", "pgroot.sh")], env=env)
        for f in glob.glob(root + lib + "scfrisk*") + glob.glob(root + share + "scfrisk*") + \
                glob.glob(root + "/usr/lib/postgresql/15/lib/bitcode/scfrisk*"):
            shutil.rmtree(f) if os.path.isdir(f) else os.remove(f)
        rc2, out2 = run(["dpkg-deb", "-x", deb, root])
        t.ok(rc == 0 and rc2 == 0 and os.path.exists(root + lib + "scfrisk.so"),
             "the package's files installed into a private server copy", out + out2)

        script = (
            "set -e; createdb pkg_tap; createdb pkg_up; "
            "psql -d pkg_up -XAtqc \"CREATE EXTENSION scfrisk VERSION '0.1.0'; ALTER EXTENSION scfrisk UPDATE; "
            "SELECT extversion FROM pg_extension WHERE extname = 'scfrisk'\"; "
            "psql -d pkg_up -XAtqc \"SELECT scfrisk.build_info() ->> 'version'\"; "
            "PGDATABASE=pkg_tap pg_prove test/pgtap/*.sql || true")
        rc, out = run([os.path.join(ROOT, "scripts", "cluster.sh"), "bash", "-c", script], env=env, timeout=1200)
        lines = out.splitlines()
        t.ok(lines[:2] == [version, version],
             "the packaged scripts update 0.1.0 to %s, and the packaged library is %s" % (version, version),
             "\n".join(lines[:10]))
        suites = sorted(glob.glob(os.path.join(ROOT, "test", "pgtap", "*.sql")))
        for s in suites:
            name = os.path.relpath(s, ROOT)
            m = [ln for ln in lines if ln.startswith(name + " ")]
            t.ok(len(m) == 1 and m[0].rstrip().endswith(" ok"),
                 "pgTAP %s passes against the installed package" % name,
                 "\n".join(m) or out[-2000:])
        t.ok("Result: PASS" in out, "pg_prove: the whole pgTAP suite passes against the package",
             "\n".join(lines[-15:]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
