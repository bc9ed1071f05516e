#!/usr/bin/env python3
"""monitor.py: watches GitProc's services and brings back the ones that are down, logging one line per action.

    monitor.py [-i SECONDS] [--once | --events] [--socket PATH] [--timeout SECONDS] [-v] [SERVICE...]

It talks to the daemon directly over its Unix socket (the JSON protocol of CONTRACT section 7: one request object a
line, one response object a line), so it needs only Python 3.8+ and its standard library, not the gitproc command.
Without SERVICE it watches every service the daemon knows.

Each round it asks for `list`, then for the `status` of every service that is not running, and decides from that data:
  - running                                             fine (shown with -v)
  - stopped by an operator (`gitproc stop`;
    status says "manually_stopped": true)               left alone: the operator's choice, kept until `gitproc start`
  - a oneshot job that has finished (sub_state exited)  left alone: it did its work
  - not for this host (sub_state condition: its unit's
    ConditionHost= names other hosts)                   left alone: it runs elsewhere
  - starting, stopping, waiting to restart
    (sub_state starting, stopping, auto-restart,
    waiting-for-resources)                               left alone this round: the daemon is already on it
  - anything else (failed, start-limit-hit, dependency-failed, or a service that ended by itself with Restart=no)
                                                        down: started again with the IPC command `start`, which
                                                        answers once it runs. `start` rather than the reference's
                                                        `restart`: if the service came back meanwhile, `start` says
                                                        "already running" and nothing is restarted for nothing.

Options:
  -i SECONDS       time between rounds (default 60; with --events, between backstop rounds)
  --once           one round, then exit with the codes below (for cron or a health check)
  --events         event-driven: follow the daemon's event stream (IPC `subscribe`) and look at a service the moment
                   it stops or fails, instead of waiting for the next round; a round at start, after every
                   reconnection and every -i seconds catches what no event announced
  --socket PATH    the daemon's socket (default: $GITPROC_SOCKET, else /run/gitproc.sock as root, else
                   $XDG_RUNTIME_DIR/gitproc.sock, as the daemon itself chooses)
  --timeout SEC    how long to wait for one answer of the daemon (default 120: a start waits for the service)
  -v               also log healthy services and each round's summary

Log lines go to stdout as "[yyyy-mm-dd HH:MM:SS] LEVEL message".

Exit codes: 0 every watched service is running or deliberately left alone (with --once), or the monitor was stopped
by SIGTERM/SIGINT; 1 the daemon could not be reached or answered an error the monitor cannot handle (--once);
2 usage error; 3 (--once) some services were down and the monitor started every one of them again; 4 (--once) a
service was down and could not be started again, or a SERVICE named on the command line is unknown to the daemon.
Without --once the monitor keeps going whatever happens, and logs when the daemon becomes unreachable and again
when it answers.

The decision is separate from how the monitor learns of changes: Monitor.check(name) handles one service,
Monitor.round() all of them. poll() drives round() on a timer; follow() (--events) drives check(name) from the
daemon's event stream (IPC `subscribe`, docs/events.md): one `service.state` event per change, so a service that fails
is looked at within milliseconds and an idle system costs no requests at all. The stream carries only what happens
while the monitor is connected, so follow() runs a round whenever it (re)connects, and every -i seconds as a
backstop.
"""

import argparse
import datetime
import json
import os
import signal
import socket
import sys
import threading
import time

EXIT_OK = 0
EXIT_UNREACHABLE = 1
EXIT_USAGE = 2
EXIT_RESTARTED = 3
EXIT_NOT_RESTARTED = 4

# Sub-states in which the daemon itself is about to bring the service back (or is stopping it on purpose).
TRANSIENT = {"starting", "stopping", "auto-restart", "waiting-for-resources"}


def log(level, message):
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    print(f"[{stamp}] {level} {message}", flush=True)


class DaemonUnreachable(Exception):
    """The socket could not be connected to, or the connection broke."""


class DaemonError(Exception):
    """The daemon answered {"status": "error", "error": ...}."""


class Client:
    """One connection to the daemon, reused across requests and opened again when it breaks (a daemon that restarted
    or upgraded itself in place, or closed an idle connection)."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self._sock = None
        self._reader = None

    def request(self, command, service=None, args=None):
        message = {"command": command}
        if service is not None:
            message["service"] = service
        if args:
            message["args"] = args
        line = (json.dumps(message) + "\n").encode()
        # A connection that broke while idle fails on first use: one fresh connection is tried before giving up.
        for attempt in (1, 2):
            try:
                if self._sock is None:
                    self._connect()
                self._sock.sendall(line)
                answer = self._reader.readline()
                if not answer:
                    raise ConnectionResetError("the daemon closed the connection")
                break
            except (OSError, ValueError) as e:
                self.close()
                if attempt == 2 or isinstance(e, (FileNotFoundError, ConnectionRefusedError, PermissionError)):
                    raise DaemonUnreachable(f"{self.path}: {e}") from e
        try:
            response = json.loads(answer)
        except ValueError as e:
            self.close()
            raise DaemonUnreachable(f"{self.path}: not a JSON answer: {answer[:200]!r}") from e
        if response.get("status") != "success":
            raise DaemonError(response.get("error") or f"unexpected answer {answer[:200]!r}")
        return response.get("data") or {}

    def _connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._reader = sock.makefile("rb")

    def close(self):
        if self._sock is not None:
            try:
                self._reader.close()
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._reader = None


def assess(status):
    """What to do about one service, from its `status` data: ("running" | "leave" | "wait" | "down", why)."""
    state = status.get("state")
    sub_state = status.get("sub_state") or ""
    if state == "running":
        return "running", "running" + (f", PID {status['pid']}" if status.get("pid") else "")
    if status.get("manually_stopped"):
        return "leave", "stopped by an operator"
    if sub_state == "exited":
        return "leave", "a oneshot job that has finished"
    if sub_state == "condition":
        return "leave", "not for this host: " + (status.get("unmet_condition") or "its ConditionHost= is not met")
    if sub_state in TRANSIENT:
        return "wait", f"{state} ({sub_state}): the daemon is on it"
    why = status.get("failure_reason") or status.get("last_exit") or sub_state or "not running"
    return "down", f"{state}: {why}"


class Monitor:
    def __init__(self, client, watched, verbose):
        self.client = client
        self.watched = list(watched)
        self.verbose = verbose

    def check(self, name):
        """Looks at one service and starts it again if it is down. Returns "running", "left", "restarted",
        "failed" (down, and the start failed) or "unknown" (no such service)."""
        try:
            status = self.client.request("status", name)
        except DaemonError as e:
            log("ERROR", f"{name}: {e}")
            return "unknown"
        verdict, why = assess(status)
        if verdict == "running":
            if self.verbose:
                log("INFO", f"{name} is healthy ({why})")
            return "running"
        if verdict in ("leave", "wait"):
            if self.verbose or verdict == "wait":
                log("INFO", f"{name} left alone: {why}")
            return "left"

        log("WARNING", f"{name} is down ({why}); starting it again")
        try:
            started = self.client.request("start", name)
        except DaemonError as e:
            if "already running" in str(e):
                log("INFO", f"{name} is running again (started meanwhile)")
                return "restarted"
            log("ERROR", f"{name} could not be started again: {e}")
            self._show_logs(name)
            return "failed"
        log("INFO", f"{name} started again (PID: {started.get('pid')})")
        return "restarted"

    def round(self):
        """One look at every watched service. Returns the counts of check()'s results."""
        services = self.client.request("list").get("services", [])
        known = {s["name"]: s for s in services}
        counts = {"running": 0, "left": 0, "restarted": 0, "failed": 0, "unknown": 0}
        names = self.watched or sorted(known)
        for name in names:
            if name not in known:
                log("ERROR", f"{name}: not a service the daemon knows")
                counts["unknown"] += 1
            elif known[name].get("status") == "running":
                # `list` already says it runs; status is asked only with -v, for the PID line.
                counts[self.check(name) if self.verbose else "running"] += 1
            else:
                counts[self.check(name)] += 1
        if self.verbose or counts["restarted"] or counts["failed"] or counts["unknown"]:
            log("INFO", "round done: {running} running, {left} left alone, {restarted} started again, "
                        "{failed} could not be started, {unknown} unknown".format(**counts))
        return counts

    def _show_logs(self, name):
        try:
            text = self.client.request("logs", name, {"lines": 5}).get("logs", "")
        except (DaemonError, DaemonUnreachable):
            return
        for line in text.splitlines():
            log("ERROR", f"    {line}")


def poll(monitor, interval, stop):
    """The polling driver: a round every `interval` seconds until `stop` is set."""
    names = ", ".join(monitor.watched) or "every service"
    log("INFO", f"monitoring {names} on {monitor.client.path} every {interval:g}s")
    reachable = True
    while not stop.is_set():
        try:
            monitor.round()
            if not reachable:
                log("INFO", "the daemon answers again")
            reachable = True
        except DaemonUnreachable as e:
            if reachable:
                log("ERROR", f"the daemon is unreachable ({e}); trying again every {interval:g}s")
            reachable = False
        except DaemonError as e:
            log("ERROR", f"the daemon refused `list`: {e}")
        stop.wait(interval)
    log("INFO", "monitor stopped")


class EventStream:
    """A connection subscribed to the daemon's `service.state` events (docs/events.md: one envelope line, then one
    bare event object a line until either side closes)."""

    def __init__(self, path, service):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(path)
            request = {"command": "subscribe", "args": {"types": ["service.state"]}}
            if service is not None:
                request["service"] = service
            self._sock.sendall((json.dumps(request) + "\n").encode())
            self._reader = self._sock.makefile("rb")
            answer = json.loads(self._reader.readline() or b"null")
        except (OSError, ValueError) as e:
            self.close()
            raise DaemonUnreachable(f"{path}: {e}") from e
        if not isinstance(answer, dict) or answer.get("status") != "success":
            self.close()
            raise DaemonError((answer or {}).get("error") or "subscribe was refused")

    def next(self, timeout):
        """The next event, or None when `timeout` seconds passed without one. DaemonUnreachable when the stream ends;
        DaemonError when the daemon dropped this subscriber (it fell behind)."""
        self._sock.settimeout(timeout)
        try:
            line = self._reader.readline()
        except socket.timeout:
            return None
        except (OSError, ValueError) as e:
            raise DaemonUnreachable(str(e)) from e
        if not line:
            raise DaemonUnreachable("the daemon closed the event stream")
        event = json.loads(line)
        if "status" in event:  # the daemon's last line to a subscriber it drops
            raise DaemonError(event.get("error") or "the daemon ended the event stream")
        return event

    def close(self):
        try:
            self._sock.close()
        except OSError:
            pass


def follow(monitor, interval, stop):
    """The event-driven driver: check(name) for each watched service that stops or fails, and a round when the stream
    (re)connects and every `interval` seconds, until `stop` is set."""
    names = ", ".join(monitor.watched) or "every service"
    log("INFO", f"monitoring {names} on {monitor.client.path} by its events (backstop round every {interval:g}s)")
    # One watched service is filtered by the daemon; several, or all, here.
    only = monitor.watched[0] if len(monitor.watched) == 1 else None
    reachable = True
    retry = 0.5
    while not stop.is_set():
        stream = None
        try:
            stream = EventStream(monitor.client.path, only)
            if not reachable:
                log("INFO", "the daemon answers again")
            reachable, retry = True, 0.5
            # Subscribed first, then the round: whatever changes after the round's look arrives as an event.
            monitor.round()
            next_round = time.monotonic() + interval
            while not stop.is_set():
                event = stream.next(min(1.0, max(0.0, next_round - time.monotonic())))
                if event is None:
                    if time.monotonic() >= next_round:
                        monitor.round()
                        next_round = time.monotonic() + interval
                    continue
                name = event.get("service")
                if event.get("to") == "running" or (monitor.watched and name not in monitor.watched):
                    continue
                if monitor.verbose:
                    log("INFO", f"event: {name} {event.get('from')} -> {event.get('to')}"
                                + (f" ({event['to_sub_state']})" if event.get("to_sub_state") else ""))
                monitor.check(name)
        except DaemonUnreachable as e:
            if reachable:
                log("ERROR", f"the daemon is unreachable ({e}); trying again")
            reachable = False
        except DaemonError as e:
            log("ERROR", f"event stream: {e}; subscribing again")
        finally:
            if stream is not None:
                stream.close()
        stop.wait(retry)
        retry = min(retry * 2, interval)
    log("INFO", "monitor stopped")


def once(monitor):
    try:
        counts = monitor.round()
    except DaemonUnreachable as e:
        log("ERROR", f"the daemon is unreachable: {e}")
        return EXIT_UNREACHABLE
    except DaemonError as e:
        log("ERROR", f"the daemon refused `list`: {e}")
        return EXIT_UNREACHABLE
    if counts["failed"] or counts["unknown"]:
        return EXIT_NOT_RESTARTED
    return EXIT_RESTARTED if counts["restarted"] else EXIT_OK


def default_socket():
    if os.environ.get("GITPROC_SOCKET"):
        return os.environ["GITPROC_SOCKET"]
    if os.geteuid() == 0:
        return "/run/gitproc.sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime or not os.path.isabs(runtime):
        import getpass
        runtime = os.path.join("/tmp", f"gitproc-{getpass.getuser()}")
    return os.path.join(runtime, "gitproc.sock")


def positive(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not above 0")
    return value


def main(argv):
    parser = argparse.ArgumentParser(
        prog="monitor.py",
        description="Starts GitProc services that are down again (not those an operator stopped).")
    parser.add_argument("services", nargs="*", metavar="SERVICE", help="services to watch (default: all)")
    parser.add_argument("-i", dest="interval", type=positive, default=60.0, metavar="SECONDS",
                        help="seconds between rounds (default 60)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one round, exit code says what was found")
    mode.add_argument("--events", action="store_true",
                      help="act on the daemon's events as they come, with a backstop round every -i seconds")
    parser.add_argument("--socket", default=None, metavar="PATH", help="the daemon's socket")
    parser.add_argument("--timeout", type=positive, default=120.0, metavar="SECONDS",
                        help="how long to wait for one answer (default 120)")
    parser.add_argument("-v", dest="verbose", action="store_true", help="log healthy services and round summaries")
    args = parser.parse_args(argv)  # exits 2 with a message on bad usage

    client = Client(args.socket or default_socket(), args.timeout)
    monitor = Monitor(client, args.services, args.verbose)
    try:
        if args.once:
            return once(monitor)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        (follow if args.events else poll)(monitor, args.interval, stop)
        return EXIT_OK
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
