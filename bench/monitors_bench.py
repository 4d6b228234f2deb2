#!/usr/bin/env python3
"""Monitor agents benchmark.

1. Detection latency of the `peer` hostmonitor: 5 agents in network namespaces (made here,
   deleted at the end), `lifeboat serve` in the switch namespace; each cycle cuts one host's
   links and measures the time until the API has accepted its STOPPED report, then restores
   the links and waits for STARTED. Prints median, p90, p99 and max.
2. Resident memory and CPU of each Lifeboat agent (hostmonitor during the cycles;
   processmonitor and instancemonitor idle for IDLE seconds), beside the Python
   masakari-monitors 22 agents with the same configuration where they start here.

Environment: LIFEBOAT_BIN (release binary), MONITORS_VENV (masakari-monitors venv, optional),
CYCLES (default 20), IDLE (seconds, default 30). Standard library only; needs root.
"""
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

LIFEBOAT = os.environ["LIFEBOAT_BIN"]
VENV = os.environ.get("MONITORS_VENV", "")
MASAKARI_VENV = os.environ.get("MASAKARI_VENV", "")
CYCLES = int(os.environ.get("CYCLES", "20"))
IDLE = int(os.environ.get("IDLE", "30"))
HOSTS = 5
PREFIX = "lbb"
WORK = tempfile.mkdtemp(prefix="lifeboat-monitors-bench-")
TICK = os.sysconf("SC_CLK_TCK")
procs = []


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def ns(name, *args):
    return sh("ip", "netns", "exec", name, *args)


def switch():
    return PREFIX + "-sw"


def host_ns(i):
    return "%s-h%d" % (PREFIX, i)


def teardown():
    for p in procs:
        try:
            p.kill()
            p.wait(timeout=10)
        except Exception:
            pass
    for name in [switch()] + [host_ns(i) for i in range(1, HOSTS + 1)]:
        sh("ip", "netns", "del", name, check=False)


def make_lab():
    teardown()
    sh("ip", "netns", "add", switch())
    ns(switch(), "ip", "link", "set", "lo", "up")
    for bridge in ("bapi", "bm"):
        ns(switch(), "ip", "link", "add", bridge, "type", "bridge")
        ns(switch(), "ip", "link", "set", bridge, "up")
    ns(switch(), "ip", "addr", "add", "10.77.0.254/24", "dev", "bapi")
    for i in range(1, HOSTS + 1):
        h = host_ns(i)
        sh("ip", "netns", "add", h)
        ns(h, "ip", "link", "set", "lo", "up")
        for bridge, inner, octet in (("bapi", "api0", 0), ("bm", "m0", 1)):
            port = "h%d%s" % (i, bridge)
            sh("ip", "link", "add", inner, "netns", h, "type", "veth", "peer", "name", port, "netns", switch())
            ns(switch(), "ip", "link", "set", port, "master", bridge)
            ns(switch(), "ip", "link", "set", port, "up")
            ns(h, "ip", "addr", "add", "10.77.%d.%d/24" % (octet, i), "dev", inner)
            ns(h, "ip", "link", "set", inner, "up")


def spawn(args, logname):
    out = open(os.path.join(WORK, logname), "w")
    p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.append(p)
    return p


def usage(pid):
    """(RSS in MiB, CPU seconds so far) of a process."""
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / TICK


def ns_api(method, path, body=None):
    code = ("import json,urllib.request;r=urllib.request.Request('http://10.77.0.254:15868/v1%s',"
            "data=%r,method='%s',headers={'Content-Type':'application/json'});"
            "print(urllib.request.urlopen(r,timeout=10).read().decode())"
            % (path, json.dumps(body).encode() if body is not None else None, method))
    return json.loads(ns(switch(), "python3", "-c", code).stdout)


def agent_conf(name, hostname, extra):
    path = os.path.join(WORK, name + ".conf")
    with open(path, "w") as f:
        f.write("[DEFAULT]\nhostname = %s\n[api]\nauth_type = none\nendpoint = %s\n"
                "[outbox]\npath = %s\nretry_initial = 0.2\nretry_max = 1\n%s"
                % (hostname, "http://10.77.0.254:15868/v1" if "peer" in extra else "http://127.0.0.1:9/v1",
                   os.path.join(WORK, "outbox-" + name), extra))
    return path


def stopped_since(db, host, since, event):
    rows = db.execute(
        "SELECT n.created_at FROM notifications n JOIN hosts h ON h.uuid = n.source_host_uuid "
        "WHERE h.name = ? AND n.payload LIKE ?", (host, '%"event":"' + event + '"%')).fetchall()
    return [r for r in rows if r[0] is not None and str(r[0]) >= since]


def peer_latency():
    make_lab()
    dbfile = os.path.join(WORK, "lifeboat.sqlite")
    conf = os.path.join(WORK, "lifeboat.conf")
    with open(conf, "w") as f:
        f.write("[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = 10.77.0.254\n"
                "duplicate_notification_detection_interval = 0\n[database]\nconnection = sqlite:///%s\n" % dbfile)
    spawn(["ip", "netns", "exec", switch(), LIFEBOAT, "serve", "--config-file", conf], "serve.log")
    for _ in range(100):
        try:
            seg = ns_api("POST", "/segments", {"segment": {"name": "bench", "recovery_method": "auto", "service_type": "COMPUTE"}})
            break
        except Exception:
            time.sleep(0.2)
    for i in range(1, HOSTS + 1):
        ns_api("POST", "/segments/%s/hosts" % seg["segment"]["uuid"],
               {"host": {"name": "compute-%d" % i, "type": "COMPUTE", "control_attributes": "SSH"}})
    peers = ", ".join("compute-%d=10.77.1.%d" % (i, i) for i in range(1, HOSTS + 1))
    agents = []
    for i in range(1, HOSTS + 1):
        c = agent_conf("host%d" % i, "compute-%d" % i,
                       "[host]\nmonitoring_driver = peer\n[peer]\nmanage = %s\nstartup_grace = 3\n" % peers)
        agents.append(spawn(["ip", "netns", "exec", host_ns(i), LIFEBOAT, "hostmonitor", "--config-file", c], "host%d.log" % i))
    time.sleep(6)
    cpu0 = [usage(p.pid)[1] for p in agents]
    t_start = time.monotonic()
    db = sqlite3.connect(dbfile, timeout=10)
    latencies = []
    for cycle in range(CYCLES):
        i = cycle % HOSTS + 1
        host = "compute-%d" % i
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 1))
        before = len(stopped_since(db, host, "", "STOPPED"))
        for bridge in ("bapi", "bm"):
            ns(switch(), "ip", "link", "set", "h%d%s" % (i, bridge), "down")
        t0 = time.monotonic()
        while len(stopped_since(db, host, "", "STOPPED")) == before:
            if time.monotonic() - t0 > 30:
                raise SystemExit("no STOPPED report for %s in 30 s; logs in %s" % (host, WORK))
            time.sleep(0.02)
        latencies.append(time.monotonic() - t0)
        started = len(stopped_since(db, host, "", "STARTED"))
        for bridge in ("bapi", "bm"):
            ns(switch(), "ip", "link", "set", "h%d%s" % (i, bridge), "up")
        t1 = time.monotonic()
        while len(stopped_since(db, host, "", "STARTED")) == started:
            if time.monotonic() - t1 > 30:
                raise SystemExit("no STARTED report for %s in 30 s; logs in %s" % (host, WORK))
            time.sleep(0.05)
        log("cycle %d: %s reported after %.2f s" % (cycle + 1, host, latencies[-1]))
        time.sleep(1)
    elapsed = time.monotonic() - t_start
    rows = []
    for n, p in enumerate(agents):
        rss, cpu = usage(p.pid)
        rows.append((rss, 100 * (cpu - cpu0[n]) / elapsed))
    total = db.execute("SELECT count(*) FROM notifications").fetchone()[0]
    teardown_lab_only()
    return latencies, rows, total


def teardown_lab_only():
    for p in list(procs):
        try:
            p.kill()
            p.wait(timeout=10)
        except Exception:
            pass
        procs.remove(p)
    for name in [switch()] + [host_ns(i) for i in range(1, HOSTS + 1)]:
        sh("ip", "netns", "del", name, check=False)


def process_list():
    path = os.path.join(WORK, "process_list.yaml")
    with open(path, "w") as f:
        for name in ("/usr/sbin/libvirtd", "/usr/sbin/virtlogd", "/bin/sleep 99999"):
            f.write("- process_name: %s\n  start_command:\n  pre_start_command:\n  post_start_command:\n"
                    "  restart_command: /bin/true\n  pre_restart_command:\n  post_restart_command:\n"
                    "  run_as_root: true\n" % name)
    return path


def idle_usage(args, logname):
    p = spawn(args, logname)
    time.sleep(3)
    if p.poll() is not None:
        return None
    _, cpu0 = usage(p.pid)
    time.sleep(IDLE)
    if p.poll() is not None:
        return None
    rss, cpu = usage(p.pid)
    p.kill()
    p.wait()
    procs.remove(p)
    return rss, 100 * (cpu - cpu0) / IDLE


def http(method, url, body=None):
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def stock_masakari():
    """Lifeboat's processmonitor and instancemonitor reporting to a stock Masakari 22 API."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    mysql = ["mariadb", "-h", "127.0.0.1", "-uroot"]
    subprocess.run(mysql + ["-e", "DROP DATABASE IF EXISTS masakari_monbench; CREATE DATABASE masakari_monbench CHARACTER SET utf8"], check=True)
    url = "mysql+pymysql://root@127.0.0.1/masakari_monbench?charset=utf8"
    conf = os.path.join(WORK, "masakari.conf")
    with open(conf, "w") as f:
        f.write("[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = 127.0.0.1\nmasakari_api_listen_port = %d\n"
                "transport_url = rabbit://guest:guest@127.0.0.1:5672/\nnotification_delay_max = 0\nlog_dir = %s\n"
                "[wsgi]\napi_paste_config = %s/etc/masakari/api-paste.ini\n[database]\nconnection = %s\n"
                "[taskflow]\nconnection = %s\n[oslo_messaging_notifications]\ndriver = noop\n"
                % (port, WORK, MASAKARI_VENV, url, url))
    subprocess.run([MASAKARI_VENV + "/bin/masakari-manage", "--config-file", conf, "db", "sync"], check=True, capture_output=True)
    # Its own process group: masakari-api forks a worker, and both are stopped together.
    api = subprocess.Popen([MASAKARI_VENV + "/bin/masakari-api", "--config-file", conf],
                           stdout=open(os.path.join(WORK, "masakari-api.log"), "w"), stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    base = "http://127.0.0.1:%d/v1" % port
    for _ in range(300):
        try:
            http("GET", base + "/segments")
            break
        except Exception:
            time.sleep(0.2)
    seg = http("POST", base + "/segments", {"segment": {"name": "stock", "recovery_method": "auto", "service_type": "COMPUTE"}})
    # Masakari checks host names against Nova; there is no Nova here, so insert the host.
    subprocess.run(mysql + ["masakari_monbench", "-e",
                            "INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes,"
                            " on_maintenance, failover_segment_id) VALUES (NOW(), 0, UUID(), 'compute-stock', 0,"
                            " 'COMPUTE', 'SSH', 0, '%s')" % seg["segment"]["uuid"]], check=True)
    plist = os.path.join(WORK, "stock_list.yaml")
    with open(plist, "w") as f:
        f.write("- process_name: /usr/bin/nova-compute-stock-bench\n  start_command:\n  pre_start_command:\n"
                "  post_start_command:\n  restart_command: /bin/false\n  pre_restart_command:\n"
                "  post_restart_command:\n  run_as_root: false\n")
    c = os.path.join(WORK, "stock.conf")
    with open(c, "w") as f:
        f.write("[DEFAULT]\nhostname = compute-stock\n[api]\nauth_type = none\nendpoint = %s\n[outbox]\npath = %s\n"
                "[process]\nprocess_list_path = %s\ncheck_interval = 1\nrestart_retries = 0\nrestart_interval = 0.5\n"
                "[libvirt]\nconnection_uri = test:///default\n" % (base, os.path.join(WORK, "outbox-stock"), plist))
    agents = [spawn([LIFEBOAT, a, "--config-file", c], "stock-%s.log" % a) for a in ("processmonitor", "instancemonitor")]
    time.sleep(3)
    uuid = "5c3f4b3e-6d0e-4b8f-9a43-%012d" % (os.getpid() % 10 ** 12)
    xml = os.path.join(WORK, "stock-domain.xml")
    with open(xml, "w") as f:
        f.write("<domain type='test'><name>stock-bench</name><uuid>%s</uuid><memory>8192</memory><os><type>hvm</type></os></domain>" % uuid)
    sh("virsh", "-c", "test+unix:///default", "create", xml)
    sh("virsh", "-c", "test+unix:///default", "destroy", "stock-bench")
    got = []
    for _ in range(100):
        got = http("GET", base + "/notifications")["notifications"]
        if len(got) >= 2:
            break
        time.sleep(0.2)
    for p in agents:
        p.kill()
        p.wait()
        procs.remove(p)
    os.killpg(api.pid, 9)
    api.wait()
    return [(n["type"], json.dumps(n["payload"], sort_keys=True)) for n in got]


def main():
    try:
        latencies, host_rows, total = peer_latency()
    finally:
        teardown()
    plist = process_list()
    common = ("[process]\nprocess_list_path = %s\ncheck_interval = 5\n[libvirt]\nconnection_uri = qemu:///system\n"
              "[host]\nmonitoring_driver = default\n" % plist)
    conf = agent_conf("idle", "compute-bench", common)
    ours = {
        "processmonitor": idle_usage([LIFEBOAT, "processmonitor", "--config-file", conf], "lb-process.log"),
        "instancemonitor": idle_usage([LIFEBOAT, "instancemonitor", "--config-file", conf], "lb-instance.log"),
    }
    theirs = {}
    if VENV:
        mconf = os.path.join(WORK, "masakarimonitors.conf")
        with open(mconf, "w") as f:
            f.write("[DEFAULT]\nhostname = compute-bench\n[api]\nauth_type = none\nendpoint = http://127.0.0.1:9/v1\n" + common)
        for agent in ("hostmonitor", "processmonitor", "instancemonitor"):
            exe = os.path.join(VENV, "bin", "masakari-" + agent)
            theirs[agent] = idle_usage([exe, "--config-file", mconf], "masakari-%s.log" % agent)
    stock = stock_masakari() if MASAKARI_VENV else None
    lat = sorted(latencies)
    q = lambda p: lat[min(len(lat) - 1, int(round(p * (len(lat) - 1))))]
    print("\npeer hostmonitor detection latency (cut -> API accepted STOPPED), %d cycles, 5 agents:" % len(lat))
    print("  median %.2f s   p90 %.2f s   p99 %.2f s   max %.2f s   (targets: median < 3 s, p99 < 5 s)"
          % (statistics.median(lat), q(0.9), q(0.99), lat[-1]))
    print("  notifications accepted: %d (expected %d: one STOPPED and one STARTED per cycle)" % (total, 2 * len(lat)))
    print("\nresident memory and CPU per agent (target < 10 MiB RSS):")
    print("  %-34s %10s %8s" % ("agent", "RSS MiB", "CPU %"))
    rss = [r for r, _ in host_rows]
    cpu = [c for _, c in host_rows]
    print("  %-34s %10.1f %8.2f" % ("lifeboat hostmonitor (peer, max of 5)", max(rss), max(cpu)))
    for name, v in ours.items():
        print("  %-34s %10s %8s" % ("lifeboat " + name + " (idle)", "%.1f" % v[0] if v else "n/a", "%.2f" % v[1] if v else "n/a"))
    for name, v in theirs.items():
        print("  %-34s %10s %8s" % ("masakari-" + name + " 22 (idle)", "%.1f" % v[0] if v else "did not run", "%.2f" % v[1] if v else ""))
    for name, v in ours.items():
        if v and theirs.get(name):
            print("  ratio lifeboat/masakari %s RSS: %.2f" % (name, v[0] / theirs[name][0]))
    if stock is not None:
        print("\nreports accepted by a stock Masakari 22 API (masakari-api, noauth2) from Lifeboat's agents:")
        for kind, payload in stock:
            print("  %s %s" % (kind, payload))
    print("\nlogs: %s" % WORK)


if __name__ == "__main__":
    main()
