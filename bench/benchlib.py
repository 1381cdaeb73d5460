"""Benchmark discipline shared by scfrisk's bench scripts (docs/benchmarks.md).

Every figure a bench script prints is a ratio against a peer or the floor,
measured in one run on the same data, on a quiet machine:

    from benchlib import Bench
    b = Bench()                                 # prints the load before, the commit, the date
    t = b.alternate({"scfrisk": run_sf, "xgboost": run_x}, repeat=3)
    b.report("train", t, "scfrisk", "xgboost")  # medians, spread, the ratio of medians
    b.done()                                    # the load after; QUIET or NOISY

- The sides run alternately (scfrisk, peer, scfrisk, peer, ...) at least
  three times each, so a burst of load from elsewhere falls on both; the
  median of each side is reported with its spread (min-max).
- The 1-minute load average per core is printed before and after.  Above 0.5
  per core the run is NOISY: load favours a single-threaded side over a
  two-threaded peer, so such figures must not be recorded.  done() then says
  so and exits with status 3, so a script that records figures stops.
"""
import datetime
import os
import statistics
import subprocess
import sys
import time

QUIET_LOAD_PER_CORE = 0.5


def load_per_core():
    return os.getloadavg()[0] / (os.cpu_count() or 1)


def say(name, value):
    print("%s: %s" % (name, value), flush=True)


class Bench:
    def __init__(self, min_repeat=3):
        self.min_repeat = min_repeat
        self.load_before = load_per_core()
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        try:
            commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True).stdout.strip()
        except OSError:
            commit = "?"
        say("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        say("commit", commit or "?")
        say("cores", os.cpu_count())
        say("load_before_per_core", "%.2f" % self.load_before)
        self.max_load = self.load_before

    def alternate(self, sides, repeat=3):
        """Run each callable of sides (name -> fn returning seconds, or None to
        time the call) alternately, repeat times; name -> list of seconds."""
        repeat = max(repeat, self.min_repeat)
        times = {name: [] for name in sides}
        for _ in range(repeat):
            for name, fn in sides.items():
                t0 = time.perf_counter()
                r = fn()
                times[name].append(r if isinstance(r, float) else time.perf_counter() - t0)
            self.max_load = max(self.max_load, load_per_core())
        return times

    def report(self, what, times, side, peer):
        """Medians and spreads of every side, then side/peer of the medians."""
        for name, ts in times.items():
            say("%s_%s_s" % (what, name), "%.3f median (spread %.3f-%.3f, n=%d)"
                % (statistics.median(ts), min(ts), max(ts), len(ts)))
        r = statistics.median(times[side]) / statistics.median(times[peer])
        say("%s_ratio_%s_over_%s" % (what, side, peer), "%.2f" % r)
        return r

    def done(self):
        after = load_per_core()
        self.max_load = max(self.max_load, after)
        say("load_after_per_core", "%.2f" % after)
        if self.max_load > QUIET_LOAD_PER_CORE:
            say("figures", "NOISY: the load reached %.2f per core (> %.1f); do not record them"
                % (self.max_load, QUIET_LOAD_PER_CORE))
            sys.exit(3)
        say("figures", "QUIET: load at most %.2f per core" % self.max_load)
