"""openstacksdk's instance_ha proxy against Lifeboat (run with the clients venv).

usage: sdk_check.py ENDPOINT   (e.g. http://127.0.0.1:15868/v1, auth none)

Exits non-zero with a message on the first failed check.
"""
import sys
import time

import openstack

endpoint = sys.argv[1]
conn = openstack.connect(auth_type="none", auth={"endpoint": endpoint},
                         instance_ha_endpoint_override=endpoint)
ha = conn.instance_ha


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


# Create many segments; page through them one at a time.
created = []
for i in range(12):
    method = ["auto", "reserved_host", "auto_priority"][i % 3]
    created.append(ha.create_segment(name="sdk-seg-%02d" % i, recovery_method=method,
                                     service_type="COMPUTE", description="seg %d" % i))
check(all(s.uuid for s in created), "create_segment returns uuids")
paged = list(ha.segments(limit=1))
check(len(paged) == 12, "limit=1 pages through all 12 segments, got %d" % len(paged))
check(len({s.uuid for s in paged}) == 12, "paging returns each segment once")

# Sort and filter.
by_name = [s.name for s in ha.segments(sort_key="name", sort_dir="asc")]
check(by_name == sorted(by_name), "sort_key=name asc is sorted: %s" % by_name)
by_name_desc = [s.name for s in ha.segments(sort_key="name", sort_dir="desc")]
check(by_name_desc == sorted(by_name, reverse=True), "sort_dir=desc is reversed")
rh = list(ha.segments(recovery_method="reserved_host"))
check(len(rh) == 4 and all(s.recovery_method == "reserved_host" for s in rh),
      "recovery_method filter: %s" % [s.recovery_method for s in rh])

# Microversion 1.2: enabled (the sdk negotiates min(1.2, server max) for segments).
off = ha.create_segment(name="sdk-disabled", recovery_method="auto",
                        service_type="COMPUTE", is_enabled=False)
check(off.is_enabled is False, "is_enabled=False on create")
check(ha.get_segment(off.uuid).is_enabled is False, "is_enabled=False on get")
disabled = list(ha.segments(enabled=False))
check([s.name for s in disabled] == ["sdk-disabled"], "enabled=False filter: %s" % [s.name for s in disabled])
on = ha.update_segment(off.uuid, is_enabled=True, description="now on")
check(on.is_enabled is True and on.description == "now on", "update is_enabled/description")

# Update and get.
seg = created[0]
ha.update_segment(seg.uuid, recovery_method="rh_priority")
check(ha.get_segment(seg.uuid).recovery_method == "rh_priority", "update recovery_method")

# Hosts.
h1 = ha.create_host(segment_id=seg.uuid, name="sdk-host-1", type="COMPUTE",
                    control_attributes="SSH", reserved=True)
h2 = ha.create_host(segment_id=seg.uuid, name="sdk-host-2", type="COMPUTE",
                    control_attributes="SSH")
check(h1.reserved is True and h2.reserved is False, "create_host reserved flags")
hosts = list(ha.hosts(seg.uuid))
check(sorted(h.name for h in hosts) == ["sdk-host-1", "sdk-host-2"], "hosts()")
check([h.name for h in ha.hosts(seg.uuid, reserved=True)] == ["sdk-host-1"], "hosts(reserved=True)")
check(len(list(ha.hosts(seg.uuid, limit=1))) == 2, "hosts paged one at a time")
upd = ha.update_host(h2.uuid, segment_id=seg.uuid, on_maintenance=True)
check(upd.on_maintenance is True, "update_host on_maintenance")
check(ha.get_host(h2.uuid, segment_id=seg.uuid).on_maintenance is True, "get_host")
# An operator's maintenance holds: every report from the host, STARTED included, gets
# Masakari's 409 (the stock acceptance checks expect it).
for event in ("STARTED", "STOPPED"):
    try:
        ha.create_notification(type="COMPUTE_HOST", hostname="sdk-host-2",
                               generated_time="2024-01-01T00:00:00.000",
                               payload={"event": event, "host_status": "NORMAL",
                                        "cluster_status": "ONLINE"})
    except openstack.exceptions.ConflictException as e:
        check(e.status_code == 409 and "is ignored as the host is already under maintenance"
              in str(e), "409 for %s from a maintained host: %s" % (event, e))
    else:
        check(False, "a %s report from a host in maintenance was accepted" % event)
check(ha.get_host(h2.uuid, segment_id=seg.uuid).on_maintenance is True,
      "the host stays in maintenance")
ha.delete_host(h2.uuid, segment_id=seg.uuid, ignore_missing=False)
check([h.name for h in ha.hosts(seg.uuid)] == ["sdk-host-1"], "delete_host")

# Notifications.
n = ha.create_notification(type="COMPUTE_HOST", hostname="sdk-host-1",
                           generated_time="2024-01-01T00:00:00.000",
                           payload={"event": "STARTED", "host_status": "NORMAL",
                                    "cluster_status": "ONLINE"})
check(n.status == "new" and n.notification_uuid, "create_notification")
got = ha.get_notification(n.notification_uuid)
check(got.payload == {"event": "STARTED", "host_status": "NORMAL", "cluster_status": "ONLINE"},
      "get_notification payload %s" % got.payload)
check(n.notification_uuid in [x.notification_uuid for x in ha.notifications(type="COMPUTE_HOST")],
      "notifications(type=)")
# The engine finishes a STARTED event ("host is back") at once; wait for it so
# the status filter is checked both ways without racing the engine.
deadline = time.time() + 30
while ha.get_notification(n.notification_uuid).status != "finished" and time.time() < deadline:
    time.sleep(0.1)
finished = [x.notification_uuid for x in ha.notifications(status="finished")]
check(finished == [n.notification_uuid], "notifications(status=finished) %s" % finished)
check(list(ha.notifications(status="new")) == [], "notifications(status=new) is empty")

# Delete.
for s in created[1:]:
    ha.delete_segment(s.uuid, ignore_missing=False)
ha.delete_segment(off.uuid, ignore_missing=False)
left = [s.name for s in ha.segments()]
check(left == ["sdk-seg-00"], "delete_segment left %s" % left)
print("openstacksdk checks passed")
