"""What the commands share: their positional arguments and list-valued columns."""

from cliff import columns


class LinesColumn(columns.FormattableColumn):
    """A list shown one line an item in tables, as the list itself in JSON and YAML."""

    line = staticmethod(str)

    def human_readable(self):
        return '\n'.join(self.line(item) for item in self._value or [])

    def machine_readable(self):
        return list(self._value or [])


class OnHost:
    """A command on one host: `<segment> <host>` first, each by name or ID."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('segment', metavar='<segment>',
                            help='Name or ID of the segment')
        parser.add_argument('host', metavar='<host>',
                            help='Name or ID of the host')
        return parser

    def on_host(self, parsed_args):
        """The client and the host's API path."""
        client = self.app.client_manager.lifeboat
        return client, client.host_path(parsed_args.segment, parsed_args.host)


class OneArgument:
    """One more positional argument, `argument = (dest, metavar, help)`."""

    argument = None

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        dest, metavar, text = self.argument
        parser.add_argument(dest, metavar=metavar, help=text)
        return parser
