"""Finding a supervisor's children fast, without /proc/PID/task/*/children (this kernel lacks CONFIG_PROC_CHILDREN).

The last field of /proc/loadavg is the most recently allocated pid, so each poll only looks at the pids created since
the previous poll (plus the few that were seen forked but not yet executed): one small read per poll instead of a walk
of /proc. A poll costs a few microseconds when nothing new was created.
"""

import os

PID_MAX = int(open("/proc/sys/kernel/pid_max").read())
CLK_TCK = os.sysconf("SC_CLK_TCK")


def last_pid():
    with open("/proc/loadavg", "rb") as f:
        return int(f.read().split()[-1])


def stat_rest(pid):
    """The fields of /proc/PID/stat from field 3 (state) on, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:].split()


def stat_fields(pid):
    """(ppid, state) of pid, or None when it is gone."""
    rest = stat_rest(pid)
    return None if rest is None else (int(rest[1]), rest[0])


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def cpu_ms(pid):
    """utime + stime of the whole process (all threads, living and dead), in ms; resolution 1000/CLK_TCK ms."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    rest = data[data.rindex(b")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) * 1000.0 / CLK_TCK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def all_pids():
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


class ChildWatcher:
    """Tracks the executed children of one supervisor whose argv matches a predicate."""

    def __init__(self, parent, match):
        self.parent = parent
        self.match = match
        self.children = set()
        self._pending = set()
        self._last = last_pid()
        for pid in all_pids():
            self._check(pid)

    def _check(self, pid):
        st = stat_fields(pid)
        if st is None or st[0] != self.parent or st[1] == b"Z":
            return
        argv = cmdline(pid)
        if argv and self.match(argv):
            self.children.add(pid)
            self._pending.discard(pid)
        else:
            # Forked but not yet executed (or a helper): look again on the next poll.
            self._pending.add(pid)

    def _new_pids(self):
        now = last_pid()
        last, self._last = self._last, now
        if now >= last:
            return range(last + 1, now + 1)
        return list(range(last + 1, PID_MAX)) + list(range(1, now + 1))

    def poll(self):
        for pid in list(self._pending):
            if stat_fields(pid) is None:
                self._pending.discard(pid)
            else:
                self._pending.discard(pid)
                self._check(pid)
        for pid in self._new_pids():
            self._check(pid)
        return self.children

    def forget(self, pid):
        self.children.discard(pid)

    def prune(self):
        """Drops children that died or became zombies (cheap enough for occasional use)."""
        for pid in list(self.children):
            st = stat_fields(pid)
            if st is None or st[1] == b"Z" or st[0] != self.parent:
                self.children.discard(pid)
        return self.children


def start_ticks(pid):
    """Field 22 of /proc/PID/stat (start time), or None when the process is gone or a zombie."""
    rest = stat_rest(pid)
    return None if rest is None or rest[0] in (b"Z", b"X") else int(rest[19])


def descendants(root):
    """{pid: start ticks} of every live process below root (one walk of /proc)."""
    parent, ticks = {}, {}
    for pid in all_pids():
        rest = stat_rest(pid)
        if rest is None or rest[0] in (b"Z", b"X"):
            continue
        parent[pid] = int(rest[1])
        ticks[pid] = int(rest[19])
    children = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = ticks[child]
            todo.append(child)
    return found


class GoneWatcher:
    """Waits until every process of a recorded set (pid and start ticks, so a reused pid does not count) is gone."""

    def __init__(self, procs):
        self.remaining = dict(procs)

    def poll(self):
        for pid, ticks in list(self.remaining.items()):
            if start_ticks(pid) != ticks:
                del self.remaining[pid]
        return len(self.remaining)
