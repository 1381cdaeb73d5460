"""Tiny TAP emitter for scfrisk's Python tests (peer comparisons, multi-session).

    from sftap import Tap
    t = Tap()
    t.ok(cond, "what")
    t.close(a, b, tol, "what")      # |a - b| <= tol
    t.done()                        # prints the plan, exits 1 on any failure

scripts/test.sh counts the "ok N" / "not ok N" lines.
"""
import sys


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print(("ok" if cond else "not ok") + " %d - %s" % (self.n, what), flush=True)
        if not cond and detail:
            for line in str(detail).splitlines():
                print("#   " + line, flush=True)
        return cond

    def close(self, a, b, tol, what):
        return self.ok(abs(a - b) <= tol, "%s (%.6g vs %.6g, tol %g)" % (what, a, b, tol))

    def skip(self, what, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, what, reason), flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)
