#!/usr/bin/env python3
"""Recovery benchmark: a compute host dies; how long until its instances are ACTIVE elsewhere?
Nova alone, Lifeboat and Masakari 22 side by side, in one run, on one real Nova.

The Nova is Nova 34 from PyPI (tests/e2e/python/novasim/novasim.py: placement, the fake virt
driver, the machine's RabbitMQ) with three computes, and keystonemiddleware in front of nova-api;
a real Keystone 30 serves tokens and the catalog. Masakari and Lifeboat find Nova the way they do
in production: Masakari's os_privileged_user_* options, a token, the `compute` catalog entry.
For each size N, N HA-enabled instances are booted on compute-1 and then, per case:

  nova alone   compute-1's nova-compute is killed (SIGKILL), and a script does by hand what a
               recovery does: find the service, force it down, disable it, list the host's
               servers, post every evacuation at once (scheduler placement).
  lifeboat     compute-1 killed, COMPUTE_HOST STOPPED posted to `lifeboat serve` (defaults:
               auto recovery inside the segment, 10 evacuations at a time).
  masakari     the same for masakari-api + masakari-engine 22, stock (wait_period_after_service_update
               180 s, host_failure_recovery_threads 3) and with the wait set to 0.

Times start when the first by-hand call is sent (nova alone) or when the POST returned 202.
"all ACTIVE" ends when the last instance is ACTIVE on another host: the end of its evacuation in
Nova's own records (the migration turns `done` when the rebuild is over; microsecond timestamps,
so no polling error), checked against the servers' state. "finished" is the first time the
notification was seen `finished` (polled every 0.2 s). "1st evac" is when the first evacuation
request reached Nova, "Nova span" from then to the last ACTIVE. Between runs compute-1 is started
again, its service un-forced and enabled, and the servers are deleted.

Environment: LIFEBOAT_BIN, MASAKARI_VENV, LIFEBOAT_TEST_ROOT (venvs of scripts/setup/python.sh),
SIZES (default "1,20,100"), ALL_AT_ONCE_SIZES (sizes that also run "nova alone, all at once";
default SIZES), MASAKARI_SIZES (default "1,20"; add 100 for ~20 more minutes),
MASAKARI_WAIT0 (1: also Masakari with wait 0; default 1), REPEAT (runs of nova alone and
lifeboat per size; medians are compared; default 1), KEEP (1: keep the work directory).
"""
import concurrent.futures
import datetime
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Procs, call, free_port, loadavg, log, sql, wait_up  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON_DIR = os.path.join(REPO, "tests", "e2e", "python")
TEST_ROOT = os.environ.get("LIFEBOAT_TEST_ROOT", os.path.expanduser("~/.cache/lifeboat-test"))
LIFEBOAT = os.environ["LIFEBOAT_BIN"]
MASAKARI_VENV = os.environ["MASAKARI_VENV"]
SIZES = [int(x) for x in os.environ.get("SIZES", "1,20,100").split(",") if x]
MASAKARI_SIZES = [int(x) for x in os.environ.get("MASAKARI_SIZES", "1,20").split(",") if x]
MASAKARI_WAIT0 = os.environ.get("MASAKARI_WAIT0", "1") == "1"
ALL_AT_ONCE_SIZES = [int(x) for x in os.environ.get("ALL_AT_ONCE_SIZES", ",".join(map(str, SIZES))).split(",") if x]
REPEAT = int(os.environ.get("REPEAT", "1"))
SOURCE, HOSTS = "compute-1", ("compute-1", "compute-2", "compute-3")
REGION = "RegionOne"
WORK = tempfile.mkdtemp(prefix="lifeboat-recovery-bench-")
# Evacuations Lifeboat runs at once (its default host_failure_recovery_threads, set explicitly).
LIFEBOAT_THREADS = 10
# Migration states of an evacuation that ended (`completed`: the source compute cleaned up).
ENDED = ("done", "completed", "error", "failed")
PAYLOAD = {"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}


def venv_tool(venv, tool):
    path = os.path.join(TEST_ROOT, venv, "bin", tool)
    if not os.path.exists(path):
        raise SystemExit("%s is missing: run scripts/setup/python.sh (or set LIFEBOAT_TEST_ROOT)" % path)
    return path


def timestamp(text):
    """Nova's and Masakari's UTC times ("2026-01-01T00:00:00.123456", maybe with Z or offset)."""
    text = text.replace("Z", "").split("+")[0]
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S"
    return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def write_secret_file(path, text):
    """Config files holding passwords: readable by this user only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


# ----------------------------------------------------------------- Keystone

class Keystone:
    """A fresh Keystone 30 (the e2e suite's venv, SQLite, gunicorn) with service users."""

    def __init__(self, procs):
        d = os.path.join(WORK, "keystone")
        os.makedirs(d)
        port = free_port()
        self.url = "http://127.0.0.1:%d/v3" % port
        self.admin_password = secrets.token_hex(16)
        conf = os.path.join(d, "keystone.conf")
        with open(conf, "w") as f:
            f.write("[DEFAULT]\nlog_file = {d}/keystone.log\n[database]\nconnection = sqlite:///{d}/keystone.sqlite\n"
                    "[token]\nprovider = fernet\nexpiration = 86400\n[identity]\npassword_hash_rounds = 4\n"
                    "[fernet_tokens]\nkey_repository = {d}/fernet-keys\n[fernet_receipts]\nkey_repository = {d}/fernet-keys\n"
                    "[credential]\nkey_repository = {d}/credential-keys\n".format(d=d))
        manage = venv_tool("keystone", "keystone-manage")
        user = os.environ.get("USER", "root")
        env = dict(os.environ, OS_BOOTSTRAP_PASSWORD=self.admin_password)  # not on the command line
        for args in (["db_sync"], ["fernet_setup", "--keystone-user", user, "--keystone-group", user],
                     ["credential_setup", "--keystone-user", user, "--keystone-group", user],
                     ["bootstrap", "--bootstrap-admin-url", self.url, "--bootstrap-internal-url", self.url,
                      "--bootstrap-public-url", self.url, "--bootstrap-region-id", REGION]):
            out = subprocess.run([manage, "--config-file", conf] + args, env=env, capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit("keystone-manage %s failed:\n%s%s" % (args[0], out.stdout, out.stderr))
        procs.start([venv_tool("keystone", "gunicorn"), "--workers", "1", "--worker-class", "gthread",
                     "--threads", "4", "--timeout", "120", "--bind", "127.0.0.1:%d" % port,
                     "--chdir", PYTHON_DIR, "keystone_wsgi:application"], "keystone",
                    env=dict(os.environ, OS_KEYSTONE_CONFIG_FILES=conf))
        wait_up(self.url)
        self.admin = self.token("admin", self.admin_password, "admin")
        self.service_project = self.api("POST", "/projects", {"project": {"name": "service", "domain_id": "default"}})["project"]["id"]
        self.admin_role = self.api("GET", "/roles?name=admin")["roles"][0]["id"]

    def token(self, user, password, project):
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password, "domain": {"id": "default"}}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
        status, headers, answer = call("POST", self.url + "/auth/tokens", body)
        if status != 201:
            raise SystemExit("Keystone refused a token for %s: %s %s" % (user, status, answer))
        return headers["X-Subject-Token"]

    def api(self, method, path, body=None):
        status, _, answer = call(method, self.url + path, body, {"X-Auth-Token": self.admin})
        if status >= 300:
            raise SystemExit("Keystone %s %s: %s %s" % (method, path, status, answer))
        return answer

    def service_user(self, name):
        """A user with the admin role in project service; returns its (new, random) password."""
        password = secrets.token_hex(16)
        uid = self.api("POST", "/users", {"user": {"name": name, "password": password, "domain_id": "default",
                                                   "default_project_id": self.service_project}})["user"]["id"]
        self.api("PUT", "/projects/%s/users/%s/roles/%s" % (self.service_project, uid, self.admin_role))
        return password

    def register(self, service_type, name, url):
        sid = self.api("POST", "/services", {"service": {"name": name, "type": service_type}})["service"]["id"]
        for interface in ("public", "internal", "admin"):
            self.api("POST", "/endpoints", {"endpoint": {"service_id": sid, "interface": interface,
                                                         "url": url, "region_id": REGION}})


# ----------------------------------------------------------------- Nova

class Nova:
    """novasim.py with keystonemiddleware, and the calls the benchmark makes to it."""

    def __init__(self, procs, keystone):
        password = keystone.service_user("nova")
        authtoken = os.path.join(WORK, "nova-authtoken.conf")
        write_secret_file(authtoken, "[keystone_authtoken]\nwww_authenticate_uri = {u}\nauth_url = {u}\n"
                          "auth_type = password\nusername = nova\npassword = {p}\nuser_domain_id = default\n"
                          "project_name = service\nproject_domain_id = default\nservice_token_roles_required = false\n"
                          .format(u=keystone.url, p=password))
        venv = os.path.dirname(os.path.dirname(venv_tool("nova", "nova-compute")))
        self.sim = procs.start([os.path.join(venv, "bin", "python"), os.path.join(PYTHON_DIR, "novasim", "novasim.py"),
                                "--dir", os.path.join(WORK, "nova"), "--venv", venv, "--hosts", ",".join(HOSTS),
                                "--authtoken-conf", authtoken], "novasim",
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        info = None
        for line in self.sim.stdout:
            if line.startswith("NOVASIM READY "):
                info = json.loads(line[len("NOVASIM READY "):])
                break
            if line.startswith("NOVASIM FAILED"):
                break
        if info is None:
            raise SystemExit("Nova did not start; see %s/novasim.log" % WORK)
        self.url, self.image, self.flavor = info["nova_url"], info["image"], info["flavor"]
        keystone.register("compute", "nova", self.url)
        self.keystone = keystone
        self.token = keystone.admin  # the admin project's token: it owns the servers

    def command(self, line):
        self.sim.stdin.write(line + "\n")
        self.sim.stdin.flush()
        answer = self.sim.stdout.readline().strip()
        if not answer.startswith("OK"):
            raise SystemExit("novasim %s: %s" % (line, answer))

    def call(self, method, path, body=None, version="2.53"):
        status, _, answer = call(method, self.url + path, body, {
            "X-Auth-Token": self.token, "OpenStack-API-Version": "compute %s" % version})
        if status >= 300:
            raise RuntimeError("Nova %s %s: %s %s" % (method, path, status, answer))
        return answer

    def service(self, host):
        return self.call("GET", "/os-services?binary=nova-compute&host=%s" % host)["services"][0]

    def servers(self):
        """Every server, by id (admin view, one page: the benchmark never has 1000)."""
        return {s["id"]: s for s in self.call("GET", "/servers/detail?all_tenants=1&limit=1000")["servers"]}

    def boot(self, n, tag):
        def one(i):
            body = {"server": {"name": "%s-%03d" % (tag, i), "imageRef": self.image, "flavorRef": self.flavor,
                               "networks": "none", "host": SOURCE, "metadata": {"HA_Enabled": "True"}}}
            return self.call("POST", "/servers", body, "2.74")["server"]["id"]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(one, range(n)))
        for attempt in range(3):
            # Right after compute-1 is enabled again its placement provider may still carry the
            # COMPUTE_STATUS_DISABLED trait for a moment (NoValidHost): boot those again.
            states = {}

            def settled(all_):
                states.update({i: all_.get(i, {}).get("status") for i in ids})
                return all(states[i] in ("ACTIVE", "ERROR") for i in ids)
            self.wait("%d servers ACTIVE on %s" % (n, SOURCE), 60 + 3 * n, settled)
            failed = [i for i in ids if states[i] == "ERROR"]
            if not failed:
                return ids
            log("%d of %d boots failed (NoValidHost?); booting them again" % (len(failed), n))
            for i in failed:
                self.call("DELETE", "/servers/%s" % i)
            ids = [i for i in ids if i not in failed] + [one(n + attempt * n + k) for k in range(len(failed))]
        raise RuntimeError("booting %d servers on %s failed three times" % (n, SOURCE))

    def wait(self, what, seconds, done):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if done(self.servers()):
                return
            time.sleep(1)
        raise RuntimeError("timed out waiting for %s" % what)

    def evacuations(self, ids, since):
        """The latest evacuation migration of each of `ids` changed since `since`, and how many
        evacuations each had."""
        found, count = {}, {}
        path = "/os-migrations?migration_type=evacuation&changes-since=%s&limit=1000" % iso(since)
        for m in self.call("GET", path, version="2.59")["migrations"]:
            i = m["instance_uuid"]
            if i in ids:
                count[i] = count.get(i, 0) + 1
                if i not in found or m["created_at"] > found[i]["created_at"]:
                    found[i] = m
        return found, count

    def wait_evacuated(self, ids, since, seconds, give_up=lambda: False):
        """Waits until every server's evacuation ended (done or error); returns the migrations."""
        deadline = time.time() + seconds
        wanted = set(ids)
        while True:
            found, count = self.evacuations(wanted, since - 2)
            ended = [m for m in found.values() if m["status"] in ENDED]
            if len(ended) == len(wanted) or time.time() > deadline or give_up():
                return found, count
            time.sleep(0.5)

    def fail_host(self):
        self.command("kill %s" % SOURCE)

    def reset(self, ids):
        """compute-1 back in service (started, no longer forced down, enabled), servers deleted."""
        self.command("start %s" % SOURCE)
        sid = self.service(SOURCE)["id"]
        deadline = time.time() + 120
        while True:  # Nova refuses until the restarted compute has cleaned up its evacuations
            try:
                self.call("PUT", "/os-services/%s" % sid, {"forced_down": False})
                break
            except RuntimeError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        self.call("PUT", "/os-services/%s" % sid, {"status": "enabled"})
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: self.call("DELETE", "/servers/%s" % i), ids))
        self.wait("servers deleted", 60 + 6 * len(ids), lambda all_: not set(ids) & set(all_))


# ----------------------------------------------------------------- the HA services

class HaApi:
    """Masakari's v1 API (Lifeboat's and Masakari's, noauth2), at microversion 1.0 (at 1.1
    masakari-api asks its engine over RPC for every GET)."""

    def __init__(self, name, base):
        self.name, self.base = name, base

    def call(self, method, path, body=None, version="1.0"):
        status, _, answer = call(method, self.base + path, body, {"OpenStack-API-Version": "instance-ha %s" % version})
        return status, answer

    def must(self, method, path, body=None, expect=(200, 201, 202, 204)):
        status, answer = self.call(method, path, body)
        if status not in expect:
            raise RuntimeError("%s %s %s: %s %s" % (self.name, method, path, status, answer))
        return answer

    def segment(self):
        """A fresh `auto` segment with the three hosts (new host ids each run: Masakari refuses a
        second STOPPED from the same host within 180 s as a duplicate)."""
        seg = self.must("POST", "/v1/segments", {"segment": {
            "name": "bench-%s" % secrets.token_hex(4), "recovery_method": "auto",
            "service_type": "COMPUTE"}})["segment"]["uuid"]
        for h in HOSTS:
            self.must("POST", "/v1/segments/%s/hosts" % seg, {"host": {
                "name": h, "type": "COMPUTE", "control_attributes": "SSH"}})
        return seg

    def delete(self, seg):
        for h in self.must("GET", "/v1/segments/%s/hosts" % seg)["hosts"]:
            self.must("DELETE", "/v1/segments/%s/hosts/%s" % (seg, h["uuid"]))
        self.must("DELETE", "/v1/segments/%s" % seg)

    def host_down(self):
        """Posts COMPUTE_HOST STOPPED for compute-1; returns (notification id, time of the 202)."""
        generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
        status, answer = self.call("POST", "/v1/notifications", {"notification": {
            "type": "COMPUTE_HOST", "hostname": SOURCE, "generated_time": generated, "payload": PAYLOAD}})
        accepted = time.time()
        if status != 202:
            raise RuntimeError("%s refused the notification: %s %s" % (self.name, status, answer))
        return answer["notification"]["notification_uuid"], accepted

    def notification(self, nid):
        return self.must("GET", "/v1/notifications/%s" % nid)["notification"]

    def noticed(self, nid, migrations):
        """How long after Nova ended each evacuation the service recorded it (its vmove's
        end_time, microversion 1.3, minus the migration's end): (mean, max) in s."""
        status, answer = self.call("GET", "/v1/notifications/%s/vmoves" % nid, version="1.3")
        if status != 200:
            return None
        lags = [timestamp(v["end_time"]) - timestamp(migrations[v["instance_uuid"]]["updated_at"])
                for v in answer.get("vmoves", []) if v.get("end_time") and v["instance_uuid"] in migrations]
        return (sum(lags) / len(lags), max(lags)) if lags else None


def lifeboat(procs, keystone):
    """`lifeboat serve` with its defaults, Nova through Keystone as a masakari.conf says."""
    password = keystone.service_user("lifeboat")
    port = free_port()
    conf = os.path.join(WORK, "lifeboat.conf")
    write_secret_file(conf, """[DEFAULT]
auth_strategy = noauth2
masakari_api_listen = 127.0.0.1
masakari_api_listen_port = {port}
os_privileged_user_name = lifeboat
os_privileged_user_password = {password}
os_privileged_user_tenant = service
os_privileged_user_auth_url = {keystone}
os_user_domain_name = Default
os_project_domain_name = Default
os_region_name = {region}
host_failure_recovery_threads = {threads}
[database]
connection = sqlite:///{work}/lifeboat.sqlite
""".format(port=port, password=password, keystone=keystone.url, region=REGION, work=WORK,
           threads=LIFEBOAT_THREADS))
    subprocess.run([LIFEBOAT, "--config-file", conf, "manage", "db", "sync"], check=True, capture_output=True)
    procs.start([LIFEBOAT, "--config-file", conf, "serve"], "lifeboat")
    base = "http://127.0.0.1:%d" % port
    wait_up(base + "/healthcheck")
    return HaApi("lifeboat", base)


def masakari(procs, keystone, password, name, wait):
    """masakari-api (noauth2) and masakari-engine 22 on their own MariaDB database and RabbitMQ
    vhost; `wait` None keeps the stock wait_period_after_service_update (180 s)."""
    db, vhost = "masakari_rbench_%s" % name, "masakari-rbench-%s" % name
    sql("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s CHARACTER SET utf8" % (db, db))
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    port = free_port()
    logs = os.path.join(WORK, "masakari-%s" % name)
    os.makedirs(logs)
    url = "mysql+pymysql://root@127.0.0.1/%s?charset=utf8" % db
    conf = os.path.join(logs, "masakari.conf")
    write_secret_file(conf, """[DEFAULT]
auth_strategy = noauth2
masakari_api_listen = 127.0.0.1
masakari_api_listen_port = {port}
masakari_api_workers = 1
transport_url = rabbit://guest:guest@127.0.0.1:5672/{vhost}
log_dir = {logs}
state_path = {logs}
# Masakari sleeps a random 0..5 s before answering a POST; the clock starts at the 202 anyway.
notification_delay_max = 0
{wait}
os_privileged_user_name = masakari
os_privileged_user_password = {password}
os_privileged_user_tenant = service
os_privileged_user_auth_url = {keystone}
os_region_name = {region}
# Keystone on SQLite compares domain names case-sensitively (Masakari's default is "default").
os_user_domain_name = Default
os_project_domain_name = Default
[wsgi]
api_paste_config = {venv}/etc/masakari/api-paste.ini
[database]
connection = {url}
[taskflow]
connection = {url}
[keystone_authtoken]
# Masakari's Nova client takes its auth plugin from here.
auth_type = password
[oslo_concurrency]
lock_path = {logs}/locks
[oslo_messaging_notifications]
driver = noop
""".format(port=port, vhost=vhost, logs=logs, password=password, keystone=keystone.url, region=REGION,
           venv=MASAKARI_VENV, url=url,
           wait="" if wait is None else "wait_period_after_service_update = %d" % wait))
    bin_ = lambda tool: os.path.join(MASAKARI_VENV, "bin", tool)  # noqa: E731
    subprocess.run([bin_("masakari-manage"), "--config-file", conf, "db", "sync"], check=True, capture_output=True)
    procs.start([bin_("masakari-api"), "--config-file", conf], "masakari-%s-api" % name)
    procs.start([bin_("masakari-engine"), "--config-file", conf], "masakari-%s-engine" % name)
    base = "http://127.0.0.1:%d" % port
    wait_up(base + "/")
    engine_log = os.path.join(logs, "masakari-engine.log")
    deadline = time.time() + 120
    while not (os.path.exists(engine_log) and "Starting ha_engine" in open(engine_log).read()):
        if time.time() > deadline:
            raise SystemExit("masakari-engine did not start; see %s" % engine_log)
        time.sleep(0.5)
    label = "masakari 22 stock" if wait is None else "masakari 22 wait=%d" % wait
    api = HaApi(label, base)
    api.vhost, api.db = vhost, db
    return api


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q"] + list(args), check=True, capture_output=True, timeout=60)


# ----------------------------------------------------------------- the runs

def outcome(nova, ids, t0, migrations, counts):
    """What Nova's records say about one run."""
    servers = nova.servers()
    elsewhere = [i for i in ids if servers.get(i, {}).get("status") == "ACTIVE"
                 and servers[i].get("OS-EXT-SRV-ATTR:host") not in (None, SOURCE)]
    done = [m for m in migrations.values() if m["status"] in ("done", "completed")]
    r = {"n": len(ids), "ok": len(elsewhere) == len(ids) and len(done) == len(ids),
         "elsewhere": len(elsewhere), "twice": sum(1 for c in counts.values() if c > 1)}
    if migrations:
        r["first_evac"] = min(timestamp(m["created_at"]) for m in migrations.values()) - t0
    if done:
        last = max(timestamp(m["updated_at"]) for m in done)
        r["span"] = last - t0 - r["first_evac"]
        if r["ok"]:
            r["active"] = last - t0
    return r


def deadline_for(n, label):
    return (300 if "stock" in label else 90) + (12 if "masakari" in label else 4) * n


def nova_alone(nova, n, width=None):
    """Nova's own time: what a recovery asks of Nova, asked by hand. Every evacuation at once,
    or (`width`) that many at a time, the next one posted as soon as one ends (seen in Nova's
    migration records, looked at every 0.2 s): Lifeboat's bound without Lifeboat."""
    ids = nova.boot(n, "nova-%d" % n)
    try:
        nova.fail_host()
        load = loadavg()[0]
        t0 = time.time()
        sid = nova.service(SOURCE)["id"]
        nova.call("PUT", "/os-services/%s" % sid, {"forced_down": True})
        nova.call("PUT", "/os-services/%s" % sid, {"status": "disabled", "disabled_reason": "bench: host failed"})
        pending = [s["id"] for s in nova.call("GET", "/servers/detail?all_tenants=1&host=%s" % SOURCE)["servers"]]
        width = width or len(pending)
        evacuate = lambda i: nova.call("POST", "/servers/%s/action" % i, {"evacuate": {}}, "2.68")  # noqa: E731
        running, deadline = set(), time.time() + deadline_for(n, "nova")
        with concurrent.futures.ThreadPoolExecutor(width) as pool:
            while pending and time.time() < deadline:
                batch, pending = pending[:width - len(running)], pending[width - len(running):]
                list(pool.map(evacuate, batch))
                running.update(batch)
                while pending and len(running) == width and time.time() < deadline:
                    time.sleep(0.2)
                    found, _ = nova.evacuations(running, t0)
                    running -= {i for i, m in found.items() if m["status"] in ENDED}
        migrations, counts = nova.wait_evacuated(ids, t0, deadline - time.time())
        r = outcome(nova, ids, t0, migrations, counts)
        r.update(case="nova alone, %s" % ("all at once" if width >= n else "%d at a time" % width),
                 load=load, status="-")
        return r
    finally:
        nova.reset(ids)


def through(api, nova, n):
    """The HA service's time: notification accepted (202) to all ACTIVE elsewhere and to finished."""
    ids = nova.boot(n, "%s-%d" % (api.name.split()[0], n))
    seg = api.segment()
    seen, final = {}, {}
    try:
        nova.fail_host()
        load = loadavg()[0]
        nid, t0 = api.host_down()

        def watch():
            """The first end the notification reaches (an error is retried later: the row
            reports the error), then its final state (segments can be deleted after that)."""
            end = time.time() + 2 * deadline_for(n, api.name)
            while time.time() < end:
                try:
                    note = api.notification(nid)
                except Exception:  # noqa: BLE001 - a slow answer is retried
                    note = {}
                status = note.get("status")
                if status in ("finished", "error", "failed", "ignored") and not seen:
                    seen.update(status=status, at=time.time(), message=note.get("message"))
                if status in ("finished", "failed", "ignored"):
                    final.update(status=status)
                    return
                time.sleep(0.2)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        migrations, counts = nova.wait_evacuated(ids, t0, deadline_for(n, api.name),
                                                 give_up=lambda: seen.get("status") in ("failed", "ignored"))
        deadline = time.time() + deadline_for(n, api.name)
        while not seen and time.time() < deadline:
            time.sleep(0.2)
        r = outcome(nova, ids, t0, migrations, counts)
        r.update(case=api.name, load=load, status=seen.get("status", "timeout"), message=seen.get("message"),
                 noticed=api.noticed(nid, migrations))
        if seen.get("status") == "finished":
            r["finished"] = seen["at"] - t0
        if seen.get("status") != "finished":
            log("%s N=%d: %s: %s; waiting for its retries to end" % (api.name, n, r["status"], r["message"]))
            watcher.join()
        return r
    finally:
        if final:
            api.delete(seg)
        else:
            log("%s: the notification did not end; its segment stays" % api.name)
        nova.reset(ids)


def fmt(value, width=9):
    return ("%*.2f" % (width, value)) if isinstance(value, float) else ("%*s" % (width, "-"))


def report(rows, started):
    print("\nRecovery benchmark: compute-1 fails with N HA-enabled instances; one Nova 34 (fake driver, "
          "3 computes, keystonemiddleware), Keystone 30; %s; bench took %.0f s"
          % (time.strftime("%Y-%m-%d %H:%M"), time.time() - started))
    print("times in s from the first call (nova alone) or the 202 (the others); 1st evac: the first evacuation reached "
          "Nova; Nova span: from then to the last ACTIVE;\nseen: how long after Nova ended an evacuation the service "
          "recorded it (its vmove end_time); load: 1-min loadavg at the start (2 cores)")
    print("%-24s %4s %10s %10s %10s %10s %11s %-9s %5s %s" % ("case", "N", "all ACTIVE", "finished", "1st evac",
                                                              "Nova span", "seen avg/max", "status", "load", "check"))
    for r in rows:
        check = "%d/%d ACTIVE elsewhere" % (r["elsewhere"], r["n"])
        if r["twice"]:
            check += ", %d evacuated twice" % r["twice"]
        if r.get("status") not in ("-", "finished") and r.get("message"):
            check += "; " + r["message"][:120]
        seen = "%.2f/%.2f" % r["noticed"] if r.get("noticed") else "-"
        print("%-24s %4d %10s %10s %10s %10s %11s %-9s %5.1f %s" % (
            r["case"], r["n"], fmt(r.get("active"), 10), fmt(r.get("finished"), 10), fmt(r.get("first_evac"), 10),
            fmt(r.get("span"), 10), seen, r["status"], r["load"], check))
    print("\nOverheads and ratios (medians per case; overhead = Lifeboat's time minus Nova alone's):")
    for n in sorted({r["n"] for r in rows}):
        def median(case, key="active"):
            values = [r[key] for r in rows if r["n"] == n and r["case"] == case and key in r]
            return statistics.median(values) if values else None
        lb, fin = median("lifeboat"), median("lifeboat", "finished")
        parts = []
        for case in sorted({r["case"] for r in rows if r["n"] == n and r["case"].startswith("nova alone")}):
            base = median(case)
            if base and lb:
                parts.append("Lifeboat all ACTIVE %+.2f s (%.2fx)%s over %s" % (
                    lb - base, lb / base, ", finished %+.2f s" % (fin - base) if fin else "", case))
        for case in sorted({r["case"] for r in rows if r["n"] == n and r["case"].startswith("masakari")}):
            m = median(case)
            if m and lb:
                parts.append("%s %.1f s = %.1fx Lifeboat" % (case, m, m / lb))
        print("  N=%-4d %s" % (n, ("\n" + " " * 9).join(parts) or "no complete runs"))


def main():
    started = time.time()
    procs = Procs(WORK)
    rows, masakaris = [], []
    log("work directory %s; load %s" % (WORK, loadavg()))
    try:
        keystone = Keystone(procs)
        log("Keystone up; starting Nova (about 30 s)")
        nova = Nova(procs, keystone)
        lb = lifeboat(procs, keystone)
        password = keystone.service_user("masakari")
        masakaris.append(masakari(procs, keystone, password, "stock", None))
        if MASAKARI_WAIT0:
            masakaris.append(masakari(procs, keystone, password, "wait0", 0))
        log("Nova at %s, Lifeboat and %d Masakari up" % (nova.url, len(masakaris)))
        for n in SIZES:
            for _ in range(REPEAT):
                if n in ALL_AT_ONCE_SIZES:
                    log("N=%d: nova alone, all at once" % n)
                    rows.append(nova_alone(nova, n))
                if n > LIFEBOAT_THREADS:
                    log("N=%d: nova alone, %d at a time" % (n, LIFEBOAT_THREADS))
                    rows.append(nova_alone(nova, n, LIFEBOAT_THREADS))
                log("N=%d: lifeboat" % n)
                rows.append(through(lb, nova, n))
            if n in MASAKARI_SIZES:
                for m in masakaris:
                    log("N=%d: %s" % (n, m.name))
                    rows.append(through(m, nova, n))
            for r in [r for r in rows if r["n"] == n]:
                log("  %s N=%d: all ACTIVE %s s, finished %s s" % (r["case"], r["n"], fmt(r.get("active"), 0), fmt(r.get("finished"), 0)))
    finally:
        for p in reversed(list(procs.running)):
            if p is getattr(locals().get("nova"), "sim", None):
                p.terminate()  # novasim stops its own processes and removes its vhost
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    pass
        procs.stop_all()
        for m in masakaris:
            try:
                rabbitmqctl("delete_vhost", m.vhost)
                sql("DROP DATABASE IF EXISTS %s" % m.db)
            except Exception:  # noqa: BLE001 - best effort
                pass
        if rows:
            report(rows, started)
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(WORK, ignore_errors=True)
        else:
            log("kept %s" % WORK)


if __name__ == "__main__":
    main()
