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
- Quiet means nothing else runs.  Two checks, both printed:
  * the 1-minute load average per core before the first measurement must be
    at most 0.5 (the rule in docs/benchmarks.md);
  * during the run, the CPU time used by every process outside the bench
    (this Python process and its children, and every PostgreSQL cluster's
    processes: the scfrisk side) must stay under 0.1 core per core on
    average.  The load average cannot say this once the bench starts: the
    bench's own two threads raise it to about 1 per core.  Other processes'
    CPU is the machine's busy time (/proc/stat) minus the bench's own
    (/proc/<pid>/stat with the times of reaped children), so short-lived
    processes of others count too.
  Load favours a single-threaded side over a two-threaded peer, so a run
  that fails either check is NOISY: done() says so and exits with status 3,
  so a script that records figures stops.
"""
import datetime
import os
import statistics
import subprocess
import sys
import time

QUIET_LOAD_PER_CORE = 0.5
QUIET_OTHERS_PER_CORE = 0.1


def _stat_fields(pid):
    """(comm, ppid, utime + stime + cutime + cstime) of a process, or None."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            raw = f.read()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2:].split()
    # fields after the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17)
    return comm, int(rest[1]), sum(int(x) for x in rest[11:15])


def own_cpu_ticks():
    """CPU ticks of the bench's processes: this one and its descendants, and
    every PostgreSQL postmaster with its descendants (the scfrisk side).  A
    descendant counts while alive; once reaped its time is in its parent's
    cutime/cstime, so each tick counts once."""
    procs = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            f = _stat_fields(pid)
            if f:
                procs[int(pid)] = f
    roots = {os.getpid()}
    for pid, (comm, ppid, _) in procs.items():
        if comm == "postgres" and procs.get(ppid, ("",))[0] != "postgres":
            roots.add(pid)
    children = {}
    for pid, (_, ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, list(roots)
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][2]
            todo.extend(children.get(pid, ()))
    return total


def busy_cpu_ticks():
    """CPU ticks the whole machine spent busy (user, nice, system, irq,
    softirq, steal), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


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
        self.t0 = time.monotonic()
        self.busy0, self.own0 = busy_cpu_ticks(), own_cpu_ticks()

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
        return times

    def report(self, what, times, side, peer):
        """Medians and spreads of every side, then side/peer of the medians."""
        for name, ts in times.items():
            say("%s_%s_s" % (what, name), "%.3f median (spread %.3f-%.3f, n=%d)"
                % (statistics.median(ts), min(ts), max(ts), len(ts)))
        r = statistics.median(times[side]) / statistics.median(times[peer])
        say("%s_ratio_%s_over_%s" % (what, side, peer), "%.3g" % r)
        return r

    def others_per_core(self):
        """Average CPU, in cores per core, used outside the bench since start."""
        hz = os.sysconf("SC_CLK_TCK")
        others = (busy_cpu_ticks() - self.busy0) - (own_cpu_ticks() - self.own0)
        wall = max(time.monotonic() - self.t0, 1e-3)
        return max(others, 0) / hz / wall / (os.cpu_count() or 1)

    def done(self):
        after = load_per_core()
        others = self.others_per_core()
        say("load_after_per_core", "%.2f (the bench's own work included)" % after)
        say("others_cpu_per_core", "%.3f (CPU of every process outside the bench, averaged over the run)"
            % others)
        if self.load_before > QUIET_LOAD_PER_CORE or others > QUIET_OTHERS_PER_CORE:
            say("figures", "NOISY: load before %.2f per core (limit %.1f), others used %.3f per core "
                "during the run (limit %.1f); do not record them"
                % (self.load_before, QUIET_LOAD_PER_CORE, others, QUIET_OTHERS_PER_CORE))
            sys.exit(3)
        say("figures", "QUIET: load before %.2f per core, others used %.3f per core during the run"
            % (self.load_before, others))


def main(argv):
    """`python3 bench/benchlib.py CMD [ARGS...]`: run a bench written in
    another language (bench/registry_bench.sh) under the same discipline;
    CMD and its descendants are the bench's own processes."""
    if not argv:
        print("usage: benchlib.py CMD [ARGS...]", file=sys.stderr)
        return 2
    bench = Bench()
    rc = subprocess.call(argv)
    if rc != 0:
        say("figures", "the command failed with status %d" % rc)
        return rc
    bench.done()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
