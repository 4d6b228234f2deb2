#!/usr/bin/env python3
"""Runs a real Nova 34 (fake virt driver, placement, SQLite) on loopback for Lifeboat's tests.

usage: novasim.py --dir DIR --venv VENV --hosts compute-1,compute-2 [--amqp URL]
                  [--authtoken-conf FILE]

Without --authtoken-conf, nova-api trusts a token of the form USER:PROJECT (noauth.py; nova 34
has no noauth2). With it, nova-api runs its stock pipeline (keystonemiddleware's auth_token)
configured by the [keystone_authtoken] section of FILE, and this script authenticates its own
calls to Nova with those credentials (so the password stays in a file, not on a command line).

Uses the machine's RabbitMQ through a vhost of its own (removed on exit). Glance and Neutron are
stood in for by a small HTTP server in this process (one raw image; no networks). Prints
`NOVASIM READY {json}` once every compute is up and mapped, then reads commands on stdin, one per
line, and answers `OK …` or `ERROR …`:

  kill HOST     SIGKILL that host's nova-compute (a host failure)
  start HOST    start it again and wait until its service reports up
  stop-api      stop nova-api (Nova unreachable)
  start-api     start nova-api again
  quit          stop everything

Everything stops when stdin closes or on SIGTERM.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE_ID = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
FLAVOR_ID = '1'
TOKEN = 'admin:admin'
NOW = '2026-01-01T00:00:00Z'
START = time.time()


def log(msg):
    sys.stderr.write('[novasim %5.1fs] %s\n' % (time.time() - START, msg))
    sys.stderr.flush()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ----------------------------------------------------------------- Glance and Neutron stand-ins

def image(image_id):
    return {'id': image_id, 'name': 'fake', 'status': 'active', 'visibility': 'public',
            'protected': False, 'os_hidden': False, 'container_format': 'bare',
            'disk_format': 'raw', 'size': 1048576, 'virtual_size': None, 'min_disk': 0,
            'min_ram': 0, 'checksum': 'd41d8cd98f00b204e9800998ecf8427e', 'os_hash_algo': 'sha512',
            'os_hash_value': '0' * 128, 'owner': 'admin', 'tags': [], 'created_at': NOW,
            'updated_at': NOW, 'file': '/v2/images/%s/file' % image_id,
            'self': '/v2/images/%s' % image_id, 'schema': '/v2/schemas/image'}


IMAGE_FIELDS = list(image(IMAGE_ID)) + ['locations', 'direct_url', 'stores']


class StandIn(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)
        parts = [p for p in urlparse(self.path).path.split('/') if p]
        port = self.server.server_address[1]
        if parts[:1] == ['image']:
            rest = parts[1:]
            if not rest:
                return self.send(200, {'versions': [{'id': 'v2.16', 'status': 'CURRENT', 'links': [
                    {'rel': 'self', 'href': 'http://127.0.0.1:%d/image/v2/' % port}]}]})
            if rest[:3] == ['v2', 'schemas', 'image']:
                return self.send(200, {'name': 'image', 'additionalProperties': {'type': 'string'},
                                       'properties': {k: {'description': k} for k in IMAGE_FIELDS},
                                       'links': [{'rel': 'self', 'href': '{self}'}]})
            if rest == ['v2', 'images']:
                return self.send(200, {'images': [image(IMAGE_ID)], 'schema': '/v2/schemas/images'})
            if rest[:2] == ['v2', 'images'] and len(rest) == 3 and rest[2] == IMAGE_ID:
                return self.send(200, image(IMAGE_ID))
        if parts[:1] == ['network']:
            rest = parts[1:]
            if not rest:
                return self.send(200, {'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': [
                    {'rel': 'self', 'href': 'http://127.0.0.1:%d/network/v2.0/' % port}]}]})
            if len(rest) == 2 and self.command == 'GET':
                return self.send(200, {rest[1].split('.')[0]: []})
        return self.send(404, {'message': 'not found'})

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


# ----------------------------------------------------------------- the stack

class Stack:
    def __init__(self, args):
        self.dir = os.path.abspath(args.dir)
        self.authtoken_conf = os.path.abspath(args.authtoken_conf) if args.authtoken_conf else None
        self.token = TOKEN if self.authtoken_conf is None else None
        self.venv = args.venv
        self.hosts = [h for h in args.hosts.split(',') if h]
        self.vhost = 'novasim-%s' % uuid.uuid4().hex[:8]
        self.amqp = '%s/%s' % (args.amqp.rstrip('/'), self.vhost)
        self.procs = {}
        self.nova_port = free_port()
        self.placement_port = free_port()
        self.standin = ThreadingHTTPServer(('127.0.0.1', 0), StandIn)
        self.standin.daemon_threads = True
        threading.Thread(target=self.standin.serve_forever, daemon=True).start()
        for sub in ('data', 'etc', 'log', 'state/lock'):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.env = dict(os.environ, PYTHONPATH=HERE)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def bin(self, name):
        return os.path.join(self.venv, 'bin', name)

    def rabbitmqctl(self, *args):
        subprocess.run(['rabbitmqctl', '-q'] + list(args), check=True, capture_output=True, timeout=60)

    def write_configs(self):
        standin = 'http://127.0.0.1:%d' % self.standin.server_address[1]
        placement = 'http://127.0.0.1:%d' % self.placement_port
        with open(self.path('etc', 'nova.conf'), 'w') as f:
            f.write('''[DEFAULT]
transport_url = {amqp}
my_ip = 127.0.0.1
state_path = {state}
compute_driver = fake.FakeDriverWithoutFakeNodes
report_interval = 2
periodic_fuzzy_delay = 0
rpc_response_timeout = 60
concurrency_backend = threading
service_down_time = 10
[oslo_concurrency]
lock_path = {state}/lock
[quota]
instances = -1
cores = -1
ram = -1
[oslo_messaging_notifications]
driver = noop
[wsgi]
api_paste_config = {etc}/api-paste.ini
[placement]
auth_type = admin_token
endpoint = {placement}
token = {token}
endpoint_override = {placement}
[glance]
endpoint_override = {standin}/image
[neutron]
auth_type = admin_token
endpoint = {standin}/network
token = {token}
endpoint_override = {standin}/network
[service_user]
send_service_user_token = false
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 1
[conductor]
workers = 1
[vnc]
enabled = false
[spice]
enabled = false
[serial_console]
enabled = false
'''.format(amqp=self.amqp, state=self.path('state'), etc=self.path('etc'),
           placement=placement, token=TOKEN, standin=standin))
        with open(self.path('etc', 'nova-db.conf'), 'w') as f:
            f.write('[DEFAULT]\nhost = novasim-ctl\n[database]\nconnection = sqlite:///%s\n'
                    'sqlite_synchronous = false\n[api_database]\nconnection = sqlite:///%s\n'
                    'sqlite_synchronous = false\n'
                    % (self.path('data', 'nova_cell1.sqlite'), self.path('data', 'nova_api.sqlite')))
        with open(self.path('etc', 'placement.conf'), 'w') as f:
            f.write('[DEFAULT]\nlog_file = %s\n[api]\nauth_strategy = noauth2\n'
                    '[placement_database]\nconnection = sqlite:///%s\nsqlite_synchronous = false\n'
                    % (self.path('log', 'placement-api.log'), self.path('data', 'placement.sqlite')))
        paste = open(os.path.join(self.venv, 'etc', 'nova', 'api-paste.ini')).read()
        if self.authtoken_conf is None:
            patched = paste.replace(' authtoken keystonecontext ', ' novasim_noauth keystonecontext ')
            if patched == paste:
                raise SystemExit("nova's api-paste.ini has no 'authtoken keystonecontext' pipeline to patch")
            paste = patched + '\n[filter:novasim_noauth]\npaste.filter_factory = noauth:filter_factory\n'
        with open(self.path('etc', 'api-paste.ini'), 'w') as f:
            f.write(paste)
        for host in self.hosts:
            os.makedirs(self.path('state', host, 'instances'), exist_ok=True)
            os.makedirs(self.path('state', host, 'lock'), exist_ok=True)
            with open(self.path('etc', 'compute-%s.conf' % host), 'w') as f:
                f.write('[DEFAULT]\nhost = {h}\nstate_path = {s}\ninstances_path = {s}/instances\n'
                        '[oslo_concurrency]\nlock_path = {s}/lock\n'.format(h=host, s=self.path('state', host)))

    def nova_conf(self):
        return ['--config-file', self.path('etc', 'nova.conf'), '--config-file', self.path('etc', 'nova-db.conf')]

    def manage(self, *args):
        out = subprocess.run([self.bin('nova-manage')] + self.nova_conf()
                             + ['--log-file', self.path('log', 'nova-manage.log')] + list(args),
                             env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit('nova-manage %s failed:\n%s\n%s' % (' '.join(args), out.stdout, out.stderr))

    def sync_databases(self):
        placement = subprocess.Popen([self.bin('placement-manage'), '--config-file',
                                      self.path('etc', 'placement.conf'), 'db', 'sync'],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.manage('api_db', 'sync')
        self.manage('cell_v2', 'map_cell0', '--database_connection',
                    'sqlite:///%s' % self.path('data', 'nova_cell0.sqlite'))
        self.manage('cell_v2', 'create_cell', '--name', 'cell1', '--database_connection',
                    'sqlite:///%s' % self.path('data', 'nova_cell1.sqlite'), '--transport-url', self.amqp)
        self.manage('db', 'sync')
        if placement.wait() != 0:
            raise SystemExit('placement-manage db sync failed')
        import sqlite3
        for name in os.listdir(self.path('data')):
            if name.endswith('.sqlite'):
                sqlite3.connect(self.path('data', name)).execute('PRAGMA journal_mode=WAL').close()

    def start(self, name, cmd, env=None):
        out = open(self.path('log', name + '.out'), 'a')
        self.procs[name] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                            env=env or self.env, start_new_session=True)

    def stop(self, name, sig=signal.SIGTERM):
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def gunicorn(self, name, port, app, threads):
        env = dict(self.env, NOVASIM_WSGI_APP=app)
        if name == 'nova-api':
            files = ['api-paste.ini', 'nova.conf', 'nova-db.conf']
            if self.authtoken_conf is not None:
                files.append(self.authtoken_conf)  # absolute: os.path.join keeps it as is
            env.update(OS_NOVA_CONFIG_DIR=self.path('etc'), OS_NOVA_CONFIG_FILES=';'.join(files))
        else:
            env.update(OS_PLACEMENT_CONFIG_DIR=self.path('etc'))
        self.start(name, [self.bin('gunicorn'), '--workers', '1', '--worker-class', 'gthread',
                          '--threads', str(threads), '--timeout', '120', '--no-control-socket',
                          '--bind', '127.0.0.1:%d' % port, '--chdir', HERE, 'wsgi_app:application'], env)

    def start_api(self):
        self.gunicorn('nova-api', self.nova_port, 'nova.wsgi.osapi_compute:application', 8)

    def keystone_token(self):
        """A project-scoped token for the [keystone_authtoken] user of --authtoken-conf."""
        import configparser
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(self.authtoken_conf)
        a = conf['keystone_authtoken']

        def domain(prefix):
            return ({'id': a[prefix + '_domain_id']} if prefix + '_domain_id' in a
                    else {'name': a.get(prefix + '_domain_name', 'Default')})
        body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
            'name': a['username'], 'password': a['password'], 'domain': domain('user')}}},
            'scope': {'project': {'name': a['project_name'], 'domain': domain('project')}}}}
        req = urllib.request.Request(a['auth_url'].rstrip('/') + '/auth/tokens', method='POST',
                                     data=json.dumps(body).encode(),
                                     headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.headers['X-Subject-Token']

    def api(self, method, path, body=None, version='2.53'):
        if self.token is None:
            self.token = self.keystone_token()
        req = urllib.request.Request('http://127.0.0.1:%d/v2.1%s' % (self.nova_port, path), method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={'X-Auth-Token': self.token, 'Content-Type': 'application/json',
                                              'OpenStack-API-Version': 'compute %s' % version})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                data = r.read()
                return json.loads(data) if data else None
        except urllib.error.HTTPError as e:
            if e.code == 401 and self.authtoken_conf is not None:
                self.token = None  # expired: the next call authenticates again
            raise

    def wait(self, what, predicate, timeout, watch=()):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if predicate():
                    return
            except (urllib.error.URLError, OSError, ValueError, KeyError):
                pass
            for name in watch:
                proc = self.procs.get(name)
                if proc is not None and proc.poll() is not None:
                    raise SystemExit('%s exited while waiting for %s; see %s' % (name, what, self.path('log')))
            time.sleep(0.2)
        raise SystemExit('timed out waiting for %s; see %s' % (what, self.path('log')))

    def services_up(self, binary, hosts=None):
        services = self.api('GET', '/os-services?binary=%s' % binary)['services']
        up = {s['host'] for s in services if s['state'] == 'up'}
        return up >= set(hosts) if hosts is not None else bool(up)

    def heartbeat(self, host):
        services = self.api('GET', '/os-services?binary=nova-compute&host=%s' % host)['services']
        return services[0]['updated_at'] if services else None

    def start_compute(self, host):
        self.start('compute-%s' % host, [self.bin('nova-compute'), '--config-file', self.path('etc', 'nova.conf'),
                                         '--config-file', self.path('etc', 'compute-%s.conf' % host),
                                         '--log-file', self.path('log', 'nova-compute-%s.log' % host)])

    def up(self):
        self.rabbitmqctl('add_vhost', self.vhost)
        self.rabbitmqctl('set_permissions', '-p', self.vhost, 'guest', '.*', '.*', '.*')
        self.write_configs()
        log('syncing databases')
        self.sync_databases()
        log('starting placement, nova-api, conductor, scheduler')
        self.gunicorn('placement-api', self.placement_port, 'placement.wsgi.api:application', 1)
        self.start_api()
        log_opt = lambda n: ['--log-file', self.path('log', '%s.log' % n)]
        self.start('nova-conductor', [self.bin('nova-conductor')] + self.nova_conf() + log_opt('nova-conductor'))
        self.start('nova-scheduler', [self.bin('nova-scheduler')] + self.nova_conf() + log_opt('nova-scheduler'))
        self.wait('nova-api', lambda: self.api('GET', '/os-services') is not None, 120, ['nova-api'])
        # A compute's first report is lost if the conductor's queue does not exist yet.
        self.wait('nova-conductor', lambda: self.services_up('nova-conductor'), 120, ['nova-conductor'])
        log('starting computes %s' % ', '.join(self.hosts))
        for host in self.hosts:
            self.start_compute(host)
        self.wait('computes', lambda: self.services_up('nova-compute', self.hosts), 180,
                  ['compute-%s' % h for h in self.hosts])
        self.wait('hypervisors', lambda: len(self.api('GET', '/os-hypervisors')['hypervisors']) >= len(self.hosts), 120)
        self.api('POST', '/flavors', {'flavor': {'name': 'm1.fake', 'id': FLAVOR_ID, 'ram': 512, 'vcpus': 1, 'disk': 1}})
        log('ready')

    def down(self):
        for name in list(self.procs):
            self.stop(name, signal.SIGKILL if name.startswith('compute-') else signal.SIGTERM)
        try:
            self.rabbitmqctl('delete_vhost', self.vhost)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass

    def command(self, line):
        words = line.split()
        if not words:
            return 'ERROR empty command'
        cmd, arg = words[0], (words[1] if len(words) > 1 else None)
        if cmd == 'kill' and arg in self.hosts:
            self.stop('compute-%s' % arg, signal.SIGKILL)
            return 'OK killed %s' % arg
        if cmd == 'start' and arg in self.hosts:
            before = self.heartbeat(arg)
            self.start_compute(arg)
            # A forced-down service reads down whatever its process does: wait for a heartbeat.
            self.wait('compute %s' % arg, lambda: self.heartbeat(arg) != before, 120, ['compute-%s' % arg])
            return 'OK started %s' % arg
        if cmd == 'stop-api':
            self.stop('nova-api')
            return 'OK api stopped'
        if cmd == 'start-api':
            self.start_api()
            self.wait('nova-api', lambda: self.api('GET', '/os-services') is not None, 120, ['nova-api'])
            return 'OK api started'
        return 'ERROR unknown command %r' % line


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--dir', required=True)
    parser.add_argument('--venv', required=True)
    parser.add_argument('--hosts', required=True)
    parser.add_argument('--amqp', default='rabbit://guest:guest@127.0.0.1:5672')
    parser.add_argument('--authtoken-conf', help='put keystonemiddleware in front of nova-api, '
                        'configured by the [keystone_authtoken] section of this file')
    args = parser.parse_args()
    stack = Stack(args)
    signal.signal(signal.SIGTERM, lambda *_: (stack.down(), os._exit(0)))
    try:
        stack.up()
    except BaseException as e:  # noqa: BLE001 - report and clean up whatever went wrong
        stack.down()
        print('NOVASIM FAILED %s' % e, flush=True)
        raise
    print('NOVASIM READY ' + json.dumps({
        'nova_url': 'http://127.0.0.1:%d/v2.1' % stack.nova_port,
        'auth': 'noauth' if stack.authtoken_conf is None else 'keystone',
        # With Keystone, clients get their own tokens; none is printed.
        'token': TOKEN if stack.authtoken_conf is None else None,
        'image': IMAGE_ID, 'flavor': FLAVOR_ID, 'hosts': stack.hosts, 'logs': stack.path('log')}), flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == 'quit':
                break
            try:
                answer = stack.command(line.strip())
            except BaseException as e:  # noqa: BLE001 - answer instead of dying
                answer = 'ERROR %s' % e
            print(answer, flush=True)
    finally:
        stack.down()


if __name__ == '__main__':
    main()
