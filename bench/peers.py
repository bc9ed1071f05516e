"""Starting and stopping the three supervisors under test, each in its own temporary directory."""

import json
import os
import shutil
import signal
import subprocess
import time

from procwatch import ChildWatcher, GoneWatcher, descendants, stat_fields


def sleep_match(argv):
    return argv[0].endswith(b"sleep")


def _wait_gone(pid, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = stat_fields(pid)
        if st is None or st[1] == b"Z":
            return True
        time.sleep(0.02)
    return False


class Service:
    """One service in the common vocabulary: argv, restart policy, and GitProc-only extra unit lines."""

    def __init__(self, name, argv, restart=True, gitproc_extra=(), gitproc_unit_extra=()):
        self.name = name
        self.argv = argv
        self.restart = restart
        self.gitproc_extra = list(gitproc_extra)
        self.gitproc_unit_extra = list(gitproc_unit_extra)


class Peer:
    name = "?"
    pid = None

    def __init__(self, work):
        self.work = work
        os.makedirs(work, exist_ok=True)
        self._seen_children = set()

    def watcher(self, match=sleep_match):
        w = ChildWatcher(self.pid, match)
        return w

    def remember_children(self, pids):
        self._seen_children |= set(pids)

    def _terminate(self):
        """SIGTERM to the supervisor process, SIGKILL after 90 s, then the children it left behind."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._kill_leftovers()

    def _kill_leftovers(self):
        # Only pids that were seen as this supervisor's children, and only if they still look like ours.
        for pid in self._seen_children:
            st = stat_fields(pid)
            if st is not None and st[1] != b"Z":
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self._seen_children.clear()


class GitProc(Peer):
    name = "GitProc"

    def __init__(self, work, exe, config=None):
        super().__init__(work)
        self.exe = exe
        self.repo = os.path.join(work, "repo")
        self.socket = os.path.join(work, "gitproc.sock")
        self.logs = os.path.join(work, "logs")
        # One daemon per cgroup root: each instance gets its own, so two can run side by side (JIT and NativeAOT).
        config = dict(config or {})
        resource_control = dict(config.get("ResourceControl", {}))
        resource_control.setdefault("CgroupRoot", "gitproc-bench-" + os.path.basename(os.path.normpath(work)))
        config["ResourceControl"] = resource_control
        self.cgroup_root = resource_control["CgroupRoot"]
        self.config = os.path.join(work, "config.json")
        with open(self.config, "w") as f:
            json.dump({"GitProc": config}, f)
        self.proc = None
        subprocess.run([exe, "init", "--repo", self.repo], check=True, stdout=subprocess.DEVNULL)

    @staticmethod
    def unit_text(s):
        lines = ["[Unit]", "Description=bench " + s.name] + s.gitproc_unit_extra
        lines += ["", "[Service]", "ExecStart=" + " ".join(s.argv)]
        lines += ["Restart=always" if s.restart else "Restart=no"]
        lines += s.gitproc_extra
        return "\n".join(lines) + "\n"

    def write_units(self, services):
        for s in services:
            with open(os.path.join(self.repo, s.name + ".service"), "w") as f:
                f.write(self.unit_text(s))

    def commit(self, message="bench"):
        env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@localhost",
                   GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@localhost")
        subprocess.run(["git", "-C", self.repo, "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", self.repo, "commit", "-q", "--no-verify", "-m", message], check=True, env=env)

    def start(self, wait_socket=True):
        args = [self.exe, "daemon", "--repo", self.repo, "--state", os.path.join(self.work, "state.json"),
                "--log-dir", self.logs, "--socket", self.socket]
        if self.config:
            args += ["--config", self.config]
        self.daemon_log = open(os.path.join(self.work, "daemon.out"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.daemon_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        if wait_socket:
            self.wait_socket()
        return self.pid

    def wait_socket(self, timeout=30):
        deadline = time.time() + timeout
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None:
                raise RuntimeError(f"gitproc daemon exited with {self.proc.returncode}; see {self.work}/daemon.out")
            if time.time() > deadline:
                raise RuntimeError("gitproc daemon did not create its socket in time")
            time.sleep(0.005)

    def cli(self, *args):
        return subprocess.run([self.exe, "--socket", self.socket, *args], capture_output=True, text=True)

    def stop(self):
        if self.proc is not None:
            self._terminate()
            self.daemon_log.close()
            self._remove_cgroup_root()

    def _remove_cgroup_root(self):
        """The daemon removes its services' cgroups; the root it ran under goes here (nothing is left behind)."""
        for hierarchy in ("/sys/fs/cgroup", *(os.path.join("/sys/fs/cgroup", c) for c in os.listdir("/sys/fs/cgroup"))):
            try:
                os.rmdir(os.path.join(hierarchy, self.cgroup_root))
            except OSError:
                pass


class Supervisord(Peer):
    name = "supervisord"

    def __init__(self, work, services):
        super().__init__(work)
        self.conf = os.path.join(work, "supervisord.conf")
        self.sock = os.path.join(work, "supervisor.sock")
        os.makedirs(os.path.join(work, "logs"), exist_ok=True)
        lines = [
            "[unix_http_server]", f"file={self.sock}", "",
            "[supervisord]", "nodaemon=true", f"logfile={work}/supervisord.log", f"pidfile={work}/supervisord.pid",
            f"childlogdir={work}/logs", "loglevel=warn", "",
            "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
            "[supervisorctl]", f"serverurl=unix://{self.sock}", "",
        ]
        for s in services:
            lines += [f"[program:{s.name}]", "command=" + " ".join(s.argv), "startsecs=0",
                      "autorestart=" + ("true" if s.restart else "false"),
                      "autostart=" + ("false" if getattr(s, "manual", False) else "true")]
            if getattr(s, "logfile", None):
                lines += [f"stdout_logfile={s.logfile}", "stdout_logfile_maxbytes=0", "redirect_stderr=true"]
            lines.append("")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["supervisord", "-n", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        return self.pid

    def wait_socket(self, timeout=30):
        deadline = time.time() + timeout
        while not os.path.exists(self.sock):
            if time.time() > deadline:
                raise RuntimeError("supervisord did not create its socket")
            time.sleep(0.01)

    def ctl(self, *args):
        return subprocess.run(["supervisorctl", "-c", self.conf, *args], capture_output=True, text=True)

    def stop(self):
        if self.proc is not None:
            self._terminate()


class Pm2(Peer):
    name = "PM2"

    def __init__(self, work, services):
        super().__init__(work)
        self.home = os.path.join(work, "pm2home")
        self.env = dict(os.environ, PM2_HOME=self.home, PM2_DISCRETE_MODE="true")
        self.eco = os.path.join(work, "ecosystem.json")
        apps = []
        for s in services:
            app = {"name": s.name, "script": s.argv[0], "args": s.argv[1:], "interpreter": "none",
                   "autorestart": bool(s.restart), "restart_delay": 0}
            if getattr(s, "logfile", None):
                app.update({"out_file": s.logfile, "error_file": s.logfile + ".err", "merge_logs": True})
            if getattr(s, "manual", False):
                app["autostart"] = False
            apps.append(app)
        with open(self.eco, "w") as f:
            json.dump({"apps": apps}, f)

    def pm2(self, *args, check=True):
        return subprocess.run(["pm2", *args], env=self.env, capture_output=True, text=True, check=check)

    def ping(self):
        """Starts the God daemon (without apps) and returns its pid."""
        self.pm2("ping")
        with open(os.path.join(self.home, "pm2.pid")) as f:
            self.pid = int(f.read().strip())
        return self.pid

    def start(self):
        self.ping()
        self.pm2("start", self.eco)
        return self.pid

    def stop(self):
        if self.pid is None:
            return
        self.pm2("kill", check=False)
        if not _wait_gone(self.pid, 20):
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self.pid = None
        self._kill_leftovers()


class ScanDirPeer(Peer):
    """A daemontools-style supervisor: scan directories with one directory (holding a run script) per service, and
    one scanner process per scan directory (more than one only where a scanner has a fixed limit)."""

    per_scanner = None  # services one scanner can hold; None: no limit

    def __init__(self, work, services):
        super().__init__(work)
        chunk = self.per_scanner or max(len(services), 1)
        self.scans, self.dirs = [], []
        for k in range(0, max(len(services), 1), chunk):
            scan = os.path.join(work, f"scan{len(self.scans)}")
            os.makedirs(scan)
            self.scans.append(scan)
            for s in services[k:k + chunk]:
                d = os.path.join(scan, s.name)
                os.makedirs(d)
                with open(os.path.join(d, "run"), "w") as f:
                    f.write("#!/bin/sh\nexec " + " ".join(s.argv) + "\n")
                os.chmod(os.path.join(d, "run"), 0o755)
                self.dirs.append(d)
        self.procs = []
        self.proc = None

    def start(self):
        self.procs = [subprocess.Popen(self.scan_command(scan), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       stdin=subprocess.DEVNULL) for scan in self.scans]
        self.proc = self.procs[0]
        self.pid = self.proc.pid
        return self.pid

    def tree(self):
        """The scanners' descendants now (supervisors and services), to wait for or clean up later."""
        procs = {}
        for p in self.procs:
            procs.update(descendants(p.pid))
        self._seen_children |= set(procs)
        return procs

    def wait_scanners(self, timeout):
        for p in self.procs:
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop(self):
        if not self.procs:
            return
        if any(p.poll() is None for p in self.procs):
            procs = self.tree()
            self.shutdown()
            self.wait_scanners(60)
            w = GoneWatcher(procs)
            deadline = time.time() + 30
            while w.poll() and time.time() < deadline:
                time.sleep(0.01)
        self.procs, self.proc = [], None
        self._kill_leftovers()


class Runit(ScanDirPeer):
    """runit's runsvdir with one runsv per service; runsvdir -P as Debian runs it (each runsv in its own session).
    runsvdir supervises at most 1,000 service directories (a compile-time limit), so more take several."""

    name = "runit"
    per_scanner = 1000

    def scan_command(self, scan):
        return ["runsvdir", "-P", scan]

    def shutdown(self):
        # runit's own way to stop everything: on SIGHUP runsvdir sends TERM to each runsv (which takes its service
        # down and exits) and exits.
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGHUP)


class S6(ScanDirPeer):
    """skarnet's s6-svscan with one s6-supervise per service; -c raises its default limit of 1,000 services."""

    name = "s6"

    def scan_command(self, scan):
        return ["s6-svscan", "-c", str(max(1000, len(self.dirs) + 10)), scan]

    def shutdown(self):
        # s6-svscanctl -t: s6-svscan sends SIGTERM to each s6-supervise (which takes its service down and exits), then exits.
        for scan, p in zip(self.scans, self.procs):
            if p.poll() is None:
                subprocess.run(["s6-svscanctl", "-t", scan], check=True)


def remove(path):
    shutil.rmtree(path, ignore_errors=True)
