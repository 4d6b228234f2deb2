"""`openstack segment host fence device create|list|show|set|delete` and `… fence history`.

Passwords are write-only: taken from `--password` or a prompt, sent once, never shown (views say
`password_set`), and requests that carry one are kept out of `--debug` logs.
"""

import argparse
import logging

from osc_lib import exceptions
from osc_lib import utils
from osc_lib.cli import format_columns
from osc_lib.cli import parseractions
from osc_lib.command import command

from lifeboatclient.common import OnHost
from lifeboatclient.common import OneArgument

LOG = logging.getLogger(__name__)

DEVICE_COLUMNS = (
    'uuid',
    'name',
    'level',
    'driver',
    'address',
    'username',
    'password_set',
    'options',
    'host_uuid',
    'created_at',
    'updated_at',
)
LIST_COLUMNS = DEVICE_COLUMNS[:8]
HISTORY_COLUMNS = ('started_at', 'device', 'level', 'action', 'result',
                   'duration_ms', 'message')


def _row(device, names):
    return tuple(
        format_columns.DictColumn(device.get(c) or {}) if c == 'options'
        else device.get(c) for c in names)


def _show(device):
    return DEVICE_COLUMNS, _row(device, DEVICE_COLUMNS)


def _device_arguments(parser, creating):
    parser.add_argument('--level', type=int, metavar='<level>',
                        help='Topology level, 1 to 9 (devices of a level all '
                             'act; the next level is tried when one fails)')
    parser.add_argument('--driver', metavar='<driver>', required=creating,
                        help="'ipmi' (Lifeboat's own IPMI client) or a fence "
                             "agent's name (fence_ipmilan, fence_redfish, ...)")
    parser.add_argument('--address', metavar='<host[:port]>',
                        help='Address of the BMC or power switch')
    parser.add_argument('--username', metavar='<username>',
                        help='Login on the device')
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument('--password', metavar='<password>',
                        help='Password (visible in the process list: prefer '
                             '--password-prompt)')
    secret.add_argument('--password-prompt', action='store_true',
                        help='Prompt for the password')
    if not creating:
        secret.add_argument('--no-password', action='store_true',
                            help='Remove the stored password')
    parser.add_argument('--option', metavar='<key=value>',
                        action=parseractions.KeyValueAction, dest='options',
                        help='Driver option (repeat for several)')


def _password(cmd, parsed_args):
    if parsed_args.password_prompt:
        return utils.get_password(cmd.app.stdin, prompt='Fence device password: ')
    return parsed_args.password


def _fields(cmd, parsed_args):
    """The request's fields from the options that were given, and the password if any."""
    fields = {
        key: getattr(parsed_args, key)
        for key in ('name', 'level', 'driver', 'address', 'username')
        if getattr(parsed_args, key, None) is not None
    }
    password = _password(cmd, parsed_args)
    if password is not None:
        fields['password'] = password
    return fields, password


class _TakesPassword:
    """osc-lib logs every command's arguments under `--debug`: these log `password` masked."""

    def run(self, parsed_args):
        shown = argparse.Namespace(**vars(parsed_args))
        if shown.password is not None:
            shown.password = '***'
        self.log.debug('run(%s)', shown)
        # osc-lib's own run() only logs the arguments: go on past it, to cliff's.
        return super(command.Command, self).run(parsed_args)


class CreateFenceDevice(_TakesPassword, OnHost, command.ShowOne):
    """Create a fence device of a host (Lifeboat, microversion 1.5)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='<name>', help='Device name')
        _device_arguments(parser, creating=True)
        return parser

    def take_action(self, parsed_args):
        fields, password = _fields(self, parsed_args)
        if parsed_args.options:
            fields['options'] = parsed_args.options
        client, path = self.on_host(parsed_args)
        body = client.request('POST', f'{path}/fence_devices',
                              {'fence_device': fields}, secret=password)
        return _show(body['fence_device'])


class ListFenceDevice(OnHost, command.Lister):
    """List a host's fence devices, by level (Lifeboat, microversion 1.5)."""

    def take_action(self, parsed_args):
        client, path = self.on_host(parsed_args)
        devices = client.request('GET', f'{path}/fence_devices')['fence_devices']
        return LIST_COLUMNS, [_row(d, LIST_COLUMNS) for d in devices]


class _OneDevice(OneArgument, OnHost, command.ShowOne):
    argument = ('device', '<device>', 'Name or ID of the fence device')


class ShowFenceDevice(_OneDevice):
    """Show a fence device (Lifeboat, microversion 1.5)."""

    def take_action(self, parsed_args):
        client = self.app.client_manager.lifeboat
        path = client.device_path(parsed_args.segment, parsed_args.host,
                                  parsed_args.device)
        return _show(client.request('GET', path)['fence_device'])


class SetFenceDevice(_TakesPassword, _OneDevice):
    """Change a fence device; options given are merged into its options."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--name', metavar='<name>', help='New name')
        _device_arguments(parser, creating=False)
        parser.add_argument('--no-options', action='store_true',
                            help='Remove every option (before --option)')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.lifeboat
        path = client.device_path(parsed_args.segment, parsed_args.host,
                                  parsed_args.device)
        fields, password = _fields(self, parsed_args)
        if parsed_args.no_password:
            fields['password'] = None
        if parsed_args.options or parsed_args.no_options:
            # The API replaces the whole map: merge with what is there.
            current = {} if parsed_args.no_options else (
                client.request('GET', path)['fence_device'].get('options') or {})
            current.update(parsed_args.options or {})
            fields['options'] = current
        if not fields:
            raise exceptions.CommandError('Nothing to change: give an option.')
        body = client.request('PUT', path, {'fence_device': fields},
                              secret=password)
        return _show(body['fence_device'])


class DeleteFenceDevice(OnHost, command.Command):
    """Delete fence devices of a host (Lifeboat, microversion 1.5)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('device', metavar='<device>', nargs='+',
                            help='Name or ID of a fence device')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.lifeboat
        failed = 0
        for device in parsed_args.device:
            try:
                path = client.device_path(parsed_args.segment, parsed_args.host,
                                          device)
                client.request('DELETE', path)
            except exceptions.CommandError as e:
                failed += 1
                LOG.error('Fence device %s not deleted: %s', device, e)
        if failed:
            raise exceptions.CommandError(
                f'{failed} of {len(parsed_args.device)} fence devices were not '
                'deleted.')


class ListFenceHistory(OnHost, command.Lister):
    """List a host's fence attempts, newest first (Lifeboat, microversion 1.5)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--limit', type=int, metavar='<n>',
                            help='At most this many attempts')
        return parser

    def take_action(self, parsed_args):
        client, path = self.on_host(parsed_args)
        params = None if parsed_args.limit is None else {'limit': parsed_args.limit}
        records = client.request('GET', f'{path}/fence_history',
                                 params=params)['fence_history']
        return HISTORY_COLUMNS, [
            tuple(r.get(c) for c in HISTORY_COLUMNS) for r in records]
