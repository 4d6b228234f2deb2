"""Lifeboat's API through the keystoneauth session the openstack CLI authenticated.

Every call carries `OpenStack-API-Version: instance-ha 1.6` (notification actions came at 1.4,
fencing at 1.5, the maintenance reason at 1.6), after the version document said the server serves it, so an API that is not
Lifeboat (or too old) is named as such instead of answering 404s.
"""

import uuid

from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ks_exceptions
from osc_lib import exceptions

SERVICE_TYPE = 'instance-ha'
MICROVERSION = '1.6'


def _version_tuple(text):
    major, _, minor = str(text).partition('.')
    return int(major), int(minor or 0)


def is_uuid_like(text):
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def fault_message(response, secret=None):
    """The API's fault message (`{"<fault>": {"code": N, "message": "..."}}`), else the body."""
    message = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and len(body) == 1:
        fault = next(iter(body.values()))
        if isinstance(fault, dict):
            message = fault.get('message')
    if not message:
        message = (response.text or response.reason or '').strip()[:500]
    if secret:
        # The request carried a password: never let an answer echo it onto the terminal.
        message = message.replace(secret, '***')
    return f'{message} (HTTP {response.status_code})'


class LifeboatClient:
    """The instance-ha endpoint of the CLI's session, at microversion 1.6."""

    def __init__(self, session, interface=None, region_name=None):
        self._adapter = adapter.Adapter(
            session,
            service_type=SERVICE_TYPE,
            interface=interface,
            region_name=region_name,
        )
        self._negotiated = False

    def _negotiate(self):
        if self._negotiated:
            return
        try:
            data = self._adapter.get_endpoint_data()
        except ks_exceptions.ClientException as e:
            raise exceptions.CommandError(
                f'Cannot find the instance-ha API: {e}') from e
        if data is None:
            raise exceptions.CommandError(
                'Cannot find the instance-ha API in the service catalog '
                '(or give --os-endpoint).')
        top = data.max_microversion
        if top is not None and tuple(top)[:2] < _version_tuple(MICROVERSION):
            shown = '.'.join(str(p) for p in tuple(top)[:2])
            raise exceptions.CommandError(
                f'The instance-ha API at {data.url} serves microversions up to '
                f'{shown}; this command needs {MICROVERSION} (Lifeboat).')
        self._negotiated = True

    def request(self, method, path, body=None, params=None, secret=None):
        """JSON of a 2xx answer (None when empty); the API's fault message otherwise.

        `secret`: a password in `body`; the request is then kept out of `--debug` logs.
        """
        self._negotiate()
        try:
            response = self._adapter.request(
                path,
                method,
                json=body,
                params=params,
                microversion=MICROVERSION,
                raise_exc=False,
                log=secret is None,
            )
        except ks_exceptions.ConnectionError as e:
            raise exceptions.CommandError(
                f'Cannot reach the instance-ha API: {e}') from e
        if response.status_code >= 400:
            raise exceptions.CommandError(fault_message(response, secret))
        if not response.content:
            return None
        return response.json()

    def list_all(self, path, key, params=None):
        """Every item of a listing, following its `next` links."""
        items = []
        url = path
        while url:
            body = self.request('GET', url, params=params)
            page = body.get(key, [])
            items.extend(page)
            nexts = [
                link.get('href') for link in body.get(f'{key}_links', [])
                if link.get('rel') == 'next'
            ]
            url = nexts[0] if nexts and page else None
            # The next link carries the query itself.
            params = None
        return items

    def segment_id(self, segment):
        """A segment's UUID from its name or UUID."""
        if is_uuid_like(segment):
            return segment
        for item in self.list_all('/segments', 'segments'):
            if item.get('name') == segment:
                return item['uuid']
        raise exceptions.CommandError(f'No segment named {segment}.')

    def host_path(self, segment, host):
        """`/segments/{uuid}/hosts/{uuid}` from names or UUIDs."""
        segment_id = self.segment_id(segment)
        base = f'/segments/{segment_id}/hosts'
        if is_uuid_like(host):
            return f'{base}/{host}'
        for item in self.list_all(base, 'hosts', params={'name': host}):
            if item.get('name') == host:
                return f"{base}/{item['uuid']}"
        raise exceptions.CommandError(
            f'No host named {host} in segment {segment}.')

    def device_path(self, segment, host, device):
        """`…/fence_devices/{uuid}` from names or UUIDs."""
        host_path = self.host_path(segment, host)
        if is_uuid_like(device):
            return f'{host_path}/fence_devices/{device}'
        body = self.request('GET', f'{host_path}/fence_devices')
        for item in body.get('fence_devices', []):
            if item.get('name') == device:
                return f"{host_path}/fence_devices/{item['uuid']}"
        raise exceptions.CommandError(
            f'No fence device named {device} on host {host}.')
