"""`openstack notification cancel|retry|progress`."""

from osc_lib.command import command

from lifeboatclient.common import LinesColumn
from lifeboatclient.common import OneArgument

NOTIFICATION_COLUMNS = (
    'notification_uuid',
    'type',
    'status',
    'message',
    'source_host_uuid',
    'failover_segment_uuid',
    'generated_time',
    'created_at',
    'updated_at',
)


class StepsColumn(LinesColumn):
    """`recovery_workflow_details`: a step a line, with its latest progress message."""

    @staticmethod
    def line(step):
        details = step.get('progress_details') or []
        last = f": {details[-1]['message']}" if details else ''
        percent = round(float(step.get('progress') or 0) * 100)
        return f"{step.get('name')} {step.get('state')} ({percent}%){last}"


class InstancesColumn(LinesColumn):
    """The vmoves: an instance a line, where it went or why it did not."""

    @staticmethod
    def line(move):
        where = move.get('dest_host') or '-'
        text = (f"{move.get('instance_name')} ({move.get('instance_uuid')}) "
                f"{move.get('type')} {move.get('status')}: "
                f"{move.get('source_host') or '-'} -> {where}")
        if move.get('message'):
            text += f" ({move['message']})"
        return text


def _show(body):
    notification = body['notification']
    return NOTIFICATION_COLUMNS, tuple(
        notification.get(c) for c in NOTIFICATION_COLUMNS)


class _OneNotification(OneArgument, command.ShowOne):
    argument = ('notification', '<notification_uuid>', 'UUID of the notification')


class _Action(_OneNotification):
    """POST /notifications/{id}/action with `{ACTION: null}`."""

    action = None

    def take_action(self, parsed_args):
        client = self.app.client_manager.lifeboat
        body = client.request(
            'POST', f'/notifications/{parsed_args.notification}/action',
            {self.action: None})
        return _show(body)


class CancelNotification(_Action):
    """Cancel a recovery: it stops at its next step (Lifeboat, microversion 1.4)."""

    action = 'cancel'


class RetryNotification(_Action):
    """Recover again a notification in error or failed (Lifeboat, microversion 1.4)."""

    action = 'retry'


class ShowProgress(_OneNotification):
    """Show a recovery's progress: its status and message, steps, and each instance's move."""

    def take_action(self, parsed_args):
        client = self.app.client_manager.lifeboat
        path = f'/notifications/{parsed_args.notification}'
        notification = client.request('GET', path)['notification']
        moves = client.list_all(f'{path}/vmoves', 'vmoves')
        counts = {}
        for move in moves:
            counts[move.get('status')] = counts.get(move.get('status'), 0) + 1
        summary = ', '.join(f'{n} {status}' for status, n in sorted(counts.items()))
        names = ('notification_uuid', 'type', 'status', 'message',
                 'source_host_uuid', 'updated_at', 'steps', 'instances',
                 'instances_summary')
        values = tuple(notification.get(c) for c in names[:6]) + (
            StepsColumn(notification.get('recovery_workflow_details') or []),
            InstancesColumn(moves),
            f'{len(moves)} instances' + (f': {summary}' if summary else ''),
        )
        return names, values
