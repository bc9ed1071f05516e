"""Connecting a benchmark to the private daemon it started."""
import socket
import time


def connect_when_up(sock_path, daemon, timeout=30):
    """A connection to the daemon's socket once it accepts; exits the benchmark if the daemon dies or is not up in time."""
    deadline = time.time() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(sock_path)
            return sock
        except OSError:
            sock.close()
            if time.time() > deadline or daemon.poll() is not None:
                raise SystemExit("the daemon did not come up")
            time.sleep(0.05)
