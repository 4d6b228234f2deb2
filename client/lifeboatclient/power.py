"""`openstack segment host power status|on|off|reboot`: through the host's fence topology."""

from osc_lib.command import command

from lifeboatclient.common import LinesColumn
from lifeboatclient.common import OnHost


class AttemptsColumn(LinesColumn):
    """Each device tried, in order."""

    @staticmethod
    def line(attempt):
        return (f"level {attempt.get('level')} {attempt.get('device')}: "
                f"{attempt.get('result')} ({attempt.get('duration_ms')} ms) "
                f"{attempt.get('message') or ''}").rstrip()


class _Power(OnHost, command.ShowOne):
    """POST …/hosts/{id}/action with `{"power": ACTION}`."""

    action = None

    def take_action(self, parsed_args):
        client, path = self.on_host(parsed_args)
        power = client.request('POST', f'{path}/action',
                               {'power': self.action})['power']
        return ('host', 'action', 'state', 'attempts'), (
            power.get('host'), power.get('action'), power.get('state'),
            AttemptsColumn(power.get('attempts') or []))


class PowerStatus(_Power):
    """Read a host's power state from its fence devices (Lifeboat, microversion 1.5)."""

    action = 'status'


class PowerOn(_Power):
    """Power a host on through its fence devices (Lifeboat, microversion 1.5)."""

    action = 'on'


class PowerOff(_Power):
    """Power a host off through its fence devices, verified (Lifeboat, microversion 1.5)."""

    action = 'off'


class PowerReboot(_Power):
    """Power-cycle a host through its fence devices (Lifeboat, microversion 1.5)."""

    action = 'reboot'
