#!/usr/bin/env python3
"""API benchmark: Lifeboat and Masakari 22 side by side, in one run, on one machine.

Measures GET /v1/segments and POST /v1/notifications at 1 and 16 concurrent clients with wrk
(requests/s, p50 and p99 latency), checks that every accepted notification reached the database,
and reads idle and loaded RSS. Prints one table and the Lifeboat/Masakari ratios.

Environment: LIFEBOAT_BIN (release binary), MASAKARI_VENV, DURATION (s, default 10),
MYSQL (mysql client command, default "mariadb -h 127.0.0.1 -uroot").
Only the standard library is used.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Procs, call, free_port, log, sql, wait_up  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LIFEBOAT = os.environ["LIFEBOAT_BIN"]
MASAKARI_VENV = os.environ["MASAKARI_VENV"]
DURATION = int(os.environ.get("DURATION", "10"))
SEGMENTS = 25
WORK = tempfile.mkdtemp(prefix="lifeboat-bench-")
procs = Procs(WORK)


def http(method, url, body=None):
    status, _, answer = call(method, url, body, {"OpenStack-API-Version": "instance-ha 1.0"})
    if status >= 300:
        raise RuntimeError("%s %s: %s %s" % (method, url, status, answer))
    return answer


def start(cmd, name, env=None):
    return procs.start(cmd, name, env)


def rss_mib(pid):
    """RSS of a process and its children (Masakari forks API workers)."""
    total = 0
    pids = [str(pid)] + subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for p in pids:
        try:
            with open("/proc/%s/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024.0


def wrk(url, connections, script=None, run_id="0"):
    cmd = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", "%ds" % DURATION,
           "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, RUN_ID=run_id)).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    accepted = re.search(r"ACCEPTED (\d+) REFUSED (\d+)", out)
    return {
        "rps": rps, "p50": pct(50), "p99": pct(99),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
        "accepted": int(accepted.group(1)) if accepted else None,
    }


def seed(base, masakari_db=None):
    """25 segments (the GET body) and the host notifications come from."""
    seg = None
    for i in range(SEGMENTS):
        seg = http("POST", base + "/v1/segments", {"segment": {
            "name": "bench-seg-%02d" % i, "recovery_method": "auto", "service_type": "COMPUTE",
            "description": "benchmark segment %d" % i}})["segment"]
    if masakari_db:
        # Masakari checks host names against Nova; there is no Nova here, so insert the host.
        sql("INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes,"
            " on_maintenance, failover_segment_id) VALUES (NOW(), 0, UUID(), 'bench-host', 0,"
            " 'COMPUTE', 'SSH', 0, '%s')" % seg["uuid"], masakari_db)
    else:
        http("POST", base + "/v1/segments/%s/hosts" % seg["uuid"], {"host": {
            "name": "bench-host", "type": "COMPUTE", "control_attributes": "SSH"}})


def measure(name, base, pid, count_rows):
    log("%s: idle RSS" % name)
    time.sleep(1)
    result = {"idle_rss": rss_mib(pid)}
    for c in (1, 16):
        log("%s: GET /v1/segments c=%d" % (name, c))
        result["get_c%d" % c] = wrk(base + "/v1/segments", c)
    for c in (1, 16):
        log("%s: POST /v1/notifications c=%d" % (name, c))
        before = count_rows()
        r = wrk(base + "/v1/notifications", c, os.path.join(HERE, "post_notification.lua"), run_id="%s%d" % (name, c))
        time.sleep(1)
        r["rows"] = count_rows() - before
        result["post_c%d" % c] = r
    result["loaded_rss"] = rss_mib(pid)
    return result


def lifeboat(backend):
    port = free_port()
    if backend == "sqlite":
        url = "sqlite:///%s/lifeboat.sqlite" % WORK
        count = lambda: int(subprocess.run(["python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from notifications').fetchone()[0])", "%s/lifeboat.sqlite" % WORK], capture_output=True, text=True).stdout)
    else:
        sql("DROP DATABASE IF EXISTS lifeboat_bench; CREATE DATABASE lifeboat_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        url = "mysql+pymysql://root@127.0.0.1/lifeboat_bench"
        count = lambda: int(sql("select count(*) from notifications", "lifeboat_bench"))
    conf = os.path.join(WORK, "lifeboat-%s.conf" % backend)
    with open(conf, "w") as f:
        f.write("[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = 127.0.0.1\n"
                "masakari_api_listen_port = %d\n[database]\nconnection = %s\nmax_pool_size = 16\n" % (port, url))
    subprocess.run([LIFEBOAT, "--config-file", conf, "manage", "db", "sync"], check=True, capture_output=True)
    env = dict(os.environ, RUST_LOG="warn")
    p = start([LIFEBOAT, "--config-file", conf, "api"], "lifeboat-" + backend, env)
    base = "http://127.0.0.1:%d" % port
    wait_up(base + "/healthcheck")
    seed(base)
    try:
        return measure("lifeboat-" + backend, base, p.pid, count)
    finally:
        os.killpg(p.pid, signal.SIGTERM)


def masakari():
    port = free_port()
    sql("DROP DATABASE IF EXISTS masakari_bench; CREATE DATABASE masakari_bench CHARACTER SET utf8")
    url = "mysql+pymysql://root@127.0.0.1/masakari_bench?charset=utf8"
    conf = os.path.join(WORK, "masakari.conf")
    with open(conf, "w") as f:
        f.write("""[DEFAULT]
auth_strategy = noauth2
masakari_api_listen = 127.0.0.1
masakari_api_listen_port = %d
transport_url = rabbit://guest:guest@127.0.0.1:5672/
log_dir = %s
# Masakari sleeps a random 0..5 s per notification by default; 0 measures its best case.
notification_delay_max = 0
[wsgi]
api_paste_config = %s/etc/masakari/api-paste.ini
[database]
connection = %s
[taskflow]
connection = %s
[oslo_messaging_notifications]
driver = noop
""" % (port, WORK, MASAKARI_VENV, url, url))
    subprocess.run([MASAKARI_VENV + "/bin/masakari-manage", "--config-file", conf, "db", "sync"],
                   check=True, capture_output=True)
    p = start([MASAKARI_VENV + "/bin/masakari-api", "--config-file", conf], "masakari-api")
    base = "http://127.0.0.1:%d" % port
    wait_up(base + "/")
    seed(base, masakari_db="masakari_bench")
    try:
        return measure("masakari", base, p.pid, lambda: int(sql("select count(*) from notifications", "masakari_bench")))
    finally:
        os.killpg(p.pid, signal.SIGTERM)


def main():
    results = {}
    try:
        results["lifeboat (SQLite)"] = lifeboat("sqlite")
        results["lifeboat (MariaDB)"] = lifeboat("mariadb")
        results["masakari 22 (MariaDB)"] = masakari()
    finally:
        for p in list(procs.running):
            procs.stop(p, signal.SIGKILL)
        # Leave the machine's MariaDB as it was (the logs stay in WORK).
        sql("DROP DATABASE IF EXISTS lifeboat_bench; DROP DATABASE IF EXISTS masakari_bench")
    print("\nAPI benchmark, %d s per run, wrk, loopback, %s" % (DURATION, time.strftime("%Y-%m-%d %H:%M")))
    print("%-24s %-26s %10s %9s %9s %s" % ("server", "request", "req/s", "p50 ms", "p99 ms", "check"))
    for server, r in results.items():
        for key, label in (("get_c1", "GET /v1/segments c=1"), ("get_c16", "GET /v1/segments c=16"),
                           ("post_c1", "POST notification c=1"), ("post_c16", "POST notification c=16")):
            m = r[key]
            check = ""
            if key.startswith("post"):
                lost = m["accepted"] - m["rows"] if m["accepted"] is not None else None
                check = "202=%s rows=%s lost=%s refused=%s" % (m["accepted"], m["rows"], max(lost, 0) if lost is not None else "?", m["non2xx"])
            elif m["non2xx"]:
                check = "non-2xx=%d" % m["non2xx"]
            if m["socket_errors"]:
                check += " socket errors: " + m["socket_errors"]
            print("%-24s %-26s %10.0f %9.2f %9.2f %s" % (server, label, m["rps"], m["p50"], m["p99"], check))
        print("%-24s %-26s %10s idle %.1f MiB, loaded %.1f MiB" % (server, "RSS", "", r["idle_rss"], r["loaded_rss"]))
    base = results["masakari 22 (MariaDB)"]
    print("\nRatios (Lifeboat / Masakari 22; throughput higher is better, latency and RSS lower):")
    for server in ("lifeboat (SQLite)", "lifeboat (MariaDB)"):
        r = results[server]
        parts = []
        for key in ("get_c1", "get_c16", "post_c1", "post_c16"):
            parts.append("%s %.0fx req/s, p99 %.3fx" % (key, r[key]["rps"] / base[key]["rps"], r[key]["p99"] / base[key]["p99"]))
        parts.append("RSS idle %.2fx, loaded %.2fx" % (r["idle_rss"] / base["idle_rss"], r["loaded_rss"] / base["loaded_rss"]))
        print("  %s: %s" % (server, "; ".join(parts)))
    lost = [s for s, r in results.items() if s.startswith("lifeboat") for k in ("post_c1", "post_c16")
            if r[k]["accepted"] is not None and r[k]["rows"] < r[k]["accepted"]]
    if lost:
        print("LOST NOTIFICATIONS in: %s" % ", ".join(sorted(set(lost))))
        sys.exit(1)


if __name__ == "__main__":
    main()
