"""WSGI entry point for gunicorn: Nova and placement parse sys.argv with oslo.config, which
refuses gunicorn's options, so the command line is hidden before the real application (named
by NOVASIM_WSGI_APP as module:attribute) is imported."""
import importlib
import os
import sys

sys.argv = sys.argv[:1]
_module, _, _attr = os.environ['NOVASIM_WSGI_APP'].partition(':')
application = getattr(importlib.import_module(_module), _attr or 'application')
