"""`openstack segment host maintenance show`: whether a host is in maintenance, and why."""

from osc_lib.command import command

from lifeboatclient.common import OnHost


class ShowMaintenance(OnHost, command.ShowOne):
    """Show why a host is in maintenance (Lifeboat, microversion 1.6).

    `operator`: set through the API (`openstack segment host update --on_maintenance`);
    `recovery`: set by the recovery engine, with the notification whose recovery did it.
    """

    def take_action(self, parsed_args):
        client, path = self.on_host(parsed_args)
        host = client.request('GET', path)['host']
        return ('host', 'on_maintenance', 'reason', 'notification'), (
            host.get('name'), host.get('on_maintenance'),
            host.get('maintenance_reason'),
            host.get('maintenance_notification_uuid'))
