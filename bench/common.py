"""What the benchmarks share: logging, ports, HTTP, MariaDB, and the processes they start.
Standard library only."""
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

MYSQL = shlex.split(os.environ.get("MYSQL", "mariadb -h 127.0.0.1 -uroot"))


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def loadavg():
    """The 1, 5 and 15 minute load averages (the machine is shared: say how busy it was)."""
    with open("/proc/loadavg") as f:
        return tuple(float(x) for x in f.read().split()[:3])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(method, url, body=None, headers=None, timeout=120):
    """One JSON request; returns (status, response headers, decoded body or None). HTTP errors
    are answers, not exceptions."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=dict({"Content-Type": "application/json"}, **(headers or {})))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, head, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, head, raw = e.code, e.headers, e.read()
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode(errors="replace")
    return status, head, decoded


def wait_up(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError as e:
            if e.code < 500:  # it answers (an auth error is an answer)
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit("%s did not come up" % url)


def sql(statement, database=None):
    cmd = MYSQL + ([database] if database else []) + ["-N", "-e", statement]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


class Procs:
    """Processes a benchmark started, each in its own session, logging to WORK/<name>.log."""

    def __init__(self, work):
        self.work = work
        self.running = []

    def start(self, cmd, name, env=None, stdin=subprocess.DEVNULL, stdout=None):
        """Starts `cmd`; stderr (and stdout unless given) go to the log."""
        out = open(os.path.join(self.work, name + ".log"), "w")
        p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout or out, stderr=out, env=env,
                             start_new_session=True, text=True)
        self.running.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, grace=20):
        try:
            os.killpg(p.pid, sig)
            p.wait(timeout=grace)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        if p in self.running:
            self.running.remove(p)

    def stop_all(self):
        for p in reversed(list(self.running)):
            self.stop(p)
