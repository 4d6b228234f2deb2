"""The openstack CLI extension module (the hooks osc-lib looks for)."""

from lifeboatclient.api import LifeboatClient

API_NAME = 'lifeboat'
# Not a user choice: each command sends the microversion it needs (see api.MICROVERSION).
API_VERSION_OPTION = 'os_lifeboat_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = ('1',)


def make_client(instance):
    """The client, on the session and endpoint the CLI has already authenticated."""
    return LifeboatClient(
        instance.session,
        interface=instance.interface,
        region_name=instance.region_name,
    )


def build_option_parser(parser):
    """No global options of its own."""
    return parser
