"""Keystone's WSGI application for gunicorn.

Keystone parses sys.argv with oslo.config, which refuses gunicorn's own options, so the command
line is hidden before the application is imported. The config file comes from
OS_KEYSTONE_CONFIG_FILES.
"""
import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402,F401
