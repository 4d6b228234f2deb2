"""Creates what the end-to-end tests need in a fresh Keystone (run with the clients venv).

usage: keystone_setup.py KEYSTONE_URL ADMIN_PASSWORD LIFEBOAT_URL

Users (domain Default): admin (bootstrap), lifeboat (service user, admin in project service),
demo (member of project demo), monitor (role instance-ha-monitor in project service). The
catalog gets an instance-ha endpoint at LIFEBOAT_URL/v1/$(tenant_id)s. Prints one JSON line with
the project ids.
"""
import json
import sys

import openstack

keystone_url, admin_password, lifeboat_url = sys.argv[1:4]
conn = openstack.connect(
    auth_url=keystone_url, username="admin", password=admin_password,
    project_name="admin", user_domain_name="Default", project_domain_name="Default",
    identity_api_version="3", region_name="RegionOne")
idn = conn.identity


def project(name):
    return idn.find_project(name, domain_id="default") or idn.create_project(
        name=name, domain_id="default")


def role(name):
    return idn.find_role(name) or idn.create_role(name=name)


def user(name, password, proj, role_name):
    u = idn.find_user(name, domain_id="default") or idn.create_user(
        name=name, password=password, domain_id="default", default_project_id=proj.id)
    idn.assign_project_role_to_user(proj, u, role(role_name))
    return u


service = project("service")
demo = project("demo")
user("lifeboat", "lifeboat-secret", service, "admin")
user("demo", "demo-secret", demo, "member")
user("monitor", "monitor-secret", service, "instance-ha-monitor")
svc = idn.create_service(name="lifeboat", type="instance-ha", is_enabled=True)
for interface in ("public", "internal", "admin"):
    idn.create_endpoint(service_id=svc.id, interface=interface,
                        url=lifeboat_url + "/v1/$(tenant_id)s", region_id="RegionOne")
admin_project = idn.find_project("admin", domain_id="default")
print(json.dumps({"admin": admin_project.id, "service": service.id, "demo": demo.id}))
