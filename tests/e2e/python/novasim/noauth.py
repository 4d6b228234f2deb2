"""A paste filter standing in for keystonemiddleware in front of a test Nova.

Nova 34 has no noauth2 mode any more. This filter sets the headers keystonemiddleware would set,
from a token of the form USER[:PROJECT]: USER "admin" gets the admin role. Requests without a
token get 401, except the version documents.
"""
import webob.dec
import webob.exc


class NoAuth:
    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info.rstrip('/') in ('', '/v2', '/v2.1'):
            return req.get_response(self.app)
        token = req.headers.get('X-Auth-Token')
        if not token:
            return webob.exc.HTTPUnauthorized()
        user, _, project = token.partition(':')
        project = project or user
        roles = 'admin,member,reader' if user == 'admin' else 'member,reader'
        for key, value in (('X-Identity-Status', 'Confirmed'), ('X-User-Id', user),
                           ('X-User-Name', user), ('X-User-Domain-Id', 'default'),
                           ('X-Project-Id', project), ('X-Project-Name', project),
                           ('X-Project-Domain-Id', 'default'), ('X-Roles', roles)):
            req.headers[key] = value
        return req.get_response(self.app)


def filter_factory(global_conf, **local_conf):
    return NoAuth
