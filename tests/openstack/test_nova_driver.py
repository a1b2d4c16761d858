"""The nova compute driver against the real OpenStack (Keystone, Glance,
Nova with the fake virt driver, Neutron, Cinder) with the real CLI.

`ctrove all` runs with compute_driver = nova on a service user of the test's
own; the datastore version is registered with --image-tags and found in
Glance by them; `openstack database instance create` gives a Nova server, a
Cinder volume (attached, of the configured type), a port on the management
network in the instance's and the management security groups, and the
instance's security group with the allowed CIDR on the database port. The
fake virt driver boots nothing, so the test reads the server's user data back
as admin, writes exactly those files under a prefix and runs the guest agent
on the host with them plus the host overlay (docs/openstack.md); the instance
then reaches ACTIVE, databases and users work, access and volume resizes reach
Neutron and Cinder, and delete leaves no server, volume, port or group.
"""
import subprocess
import time

import pytest

from conftest import CTROVE, broker, e2e, free_port, sanitizer_env  # noqa: F401
from keystone_lib import Member
from nova_lib import (CloudResources, KeystoneCloud, ServiceUser, cloud_conf, host_overlay,
                      read_user_data, start_host_agent, write_guest_files)

PASSWORD = "Nova-pw-7319"


@pytest.fixture(scope="module")
def service_user(openstack):
    user = ServiceUser(openstack)
    yield user
    user.remove()


@pytest.fixture(scope="module")
def resources(openstack, service_user, tmp_path_factory):
    res = CloudResources(openstack, service_user, tmp_path_factory.mktemp("nova-res"))
    yield res
    res.remove()


def leftovers(openstack, user, instance_id):
    """Every server, volume, port and security group named after the instance."""
    name = f"trove-{instance_id}"
    found = {}
    servers = openstack.cli_json("server", "list", "--all-projects", "--name", f"^{name}$")
    found["servers"] = [s["ID"] for s in servers or []]
    volumes = user.cli_json("volume", "list", "--name", name)
    found["volumes"] = [v["ID"] for v in volumes or []]
    ports = openstack.cli_json("port", "list", "--project", user.project_id)
    found["ports"] = [p["ID"] for p in ports or [] if p["Name"] == name]
    groups = openstack.cli_json("security", "group", "list", "--project", user.project_id)
    found["groups"] = [g["ID"] for g in groups or [] if g["Name"] == f"trove_sg-{instance_id}"]
    return found


def nothing_left(openstack, user, instance_id):
    return leftovers(openstack, user, instance_id) == {
        "servers": [], "volumes": [], "ports": [], "groups": []}


@pytest.fixture(scope="module")
def members(openstack):
    """The users: two projects of their own with the member role."""
    made = {"demo": Member(openstack, "nova-user"), "other": Member(openstack, "nova-other")}
    yield made
    for m in made.values():
        m.remove()


@pytest.fixture(scope="module")
def nova_cloud(tmp_path_factory, broker, openstack, service_user, resources,  # noqa: F811
               members):
    srv = KeystoneCloud(tmp_path_factory.mktemp("nova"), broker, openstack, members,
                        extra_conf=cloud_conf(service_user, resources))
    srv.agents = []
    try:
        srv.manage("db_sync")
        srv.manage("flavor_create", resources.flavor_id, resources.flavor_id, "512", "1", "1")
        srv.manage("flavor_create", resources.bigger_flavor_id, resources.bigger_flavor_id,
                   "1024", "1", "1")
        srv.start()
        srv.register_endpoint()
        # The operator registers the version as Keystone's admin, by image tags.
        srv.cli("datastore", "version", "create", "10.11", "mariadb", "mariadb", "",
                "--image-tags", resources.image_tags, "--active", "--default", user="admin")
        srv.acting = "demo"
        yield srv
        srv.stop()
    finally:
        srv.unregister_endpoint()
        for proc in srv.agents:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        srv.cleanup()
    log = srv.log.read_text()
    assert service_user.password not in log and PASSWORD not in log


def wait_for(what, check, timeout=60, interval=0.5):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last})")


def the_server(openstack, instance_id):
    servers = openstack.cli_json("server", "list", "--all-projects", "--name",
                                 f"^trove-{instance_id}$")
    return servers[0] if servers and servers[0]["Status"] == "ACTIVE" else None


def sg_rules(user, instance_id):
    rules = user.cli_json("security", "group", "rule", "list", "--ingress", "--long",
                          f"trove_sg-{instance_id}")
    return sorted((r["IP Protocol"], r["Port Range"], r["IP Range"]) for r in rules)


def test_instance_on_nova_from_create_to_delete(nova_cloud, openstack, service_user,
                                                 resources):
    cloud, user, res = nova_cloud, service_user, resources
    made = cloud.cli_json("database", "instance", "create", "nova-i1", "--flavor",
                          res.flavor_id, "--size", "1", "--datastore", "mariadb",
                          "--datastore-version", "10.11", "--is-public", "--allowed-cidr",
                          "10.20.0.0/16", "--databases", "db1", "--users",
                          f"u1:{PASSWORD}")
    iid = made["id"]

    # Nova: the server, booted as the driver says.
    server = wait_for("the Nova server ACTIVE", lambda: the_server(openstack, iid),
                      timeout=240, interval=2)
    shown = openstack.cli_json("--os-compute-api-version", "2.3", "server", "show",
                               server["ID"])
    assert shown["project_id"] == user.project_id
    assert res.flavor_id in shown["flavor"]
    assert res.image_id in shown["image"]
    assert shown["key_name"] == res.keypair
    assert shown["config_drive"] in ("True", True)
    assert shown["properties"]["trove_instance_id"] == iid if isinstance(
        shown.get("properties"), dict) else f"trove_instance_id='{iid}'" in shown["properties"]

    # Cinder: the volume, attached, of the configured type.
    vol = user.cli_json("volume", "show", f"trove-{iid}")
    assert vol["size"] == 1 and vol["status"] == "in-use"
    assert vol["type"] == res.volume_type
    assert [a["server_id"] for a in vol["attachments"]] == [server["ID"]]

    # Neutron: one port on the management network with both groups, and the
    # instance's group holding the allowed CIDR on MariaDB's port.
    ports = [p for p in openstack.cli_json("port", "list", "--network", res.network_id,
                                           "--long") if p["Name"] == f"trove-{iid}"]
    assert len(ports) == 1
    port = openstack.cli_json("port", "show", ports[0]["ID"])
    assert port["device_id"] == server["ID"]
    sg = user.cli_json("security", "group", "show", f"trove_sg-{iid}")
    assert sorted(port["security_group_ids"]) == sorted([sg["id"], res.mgmt_sg_id])
    assert sg_rules(user, iid) == [("tcp", "3306:3306", "10.20.0.0/16")]
    address = port["fixed_ips"][0]["ip_address"]

    # The user data (contract part 2), read back as admin.
    first, document = read_user_data(openstack, server["ID"])
    assert first == "#cloud-config"
    paths = {f["path"]: f for f in document["write_files"]}
    assert paths["/etc/ctrove/guest.conf"]["permissions"] == "0600"
    # Under instances/ so that the harness's guest_logs() shows (and checks)
    # the agent's log as it does the local driver's.
    prefix = cloud.local / "instances" / "vm"
    prefix.mkdir()
    written = write_guest_files(document, prefix)
    guest_conf = written["/etc/ctrove/guest.conf"].read_text()
    assert f"guest_id = {iid}" in guest_conf
    assert "device_path = /dev/vdb" in guest_conf and "mount_device = true" in guest_conf
    assert "transport_url = rabbit" in guest_conf
    assert user.password not in guest_conf

    # The instance's address is its port's; then the agent, run on the host.
    status, _, body = cloud.api("GET", f"/instances/{iid}")
    assert status == 200 and body["instance"]["status"] == "BUILD"
    overlay = host_overlay(prefix, cloud.run_root / "g1", f"127.{77}.0.{1 + free_port() % 250}",
                           free_port())
    cloud.agents.append(start_host_agent(prefix, overlay))
    inst = cloud.wait_status("nova-i1", "ACTIVE", operating="HEALTHY", timeout=600)
    # The port's fixed IP is the instance's (the server's, not the host agent's).
    assert inst["ip"] == [address], inst
    shown = cloud.api("GET", f"/instances/{iid}")[2]["instance"]
    assert shown["ip"] == [address] and shown["addresses"] == [
        {"address": address, "type": "private"}], shown

    # Databases and users through the CLI, carried out by the agent.
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", iid)} >= {"db1"}
    cloud.cli("database", "db", "create", iid, "db2")
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", iid)} >= {"db1", "db2"}
    cloud.cli("database", "user", "create", iid, "u2", PASSWORD, "--databases", "db2")
    assert {u["Name"] for u in cloud.cli_json("database", "user", "list", iid)} >= {"u1", "u2"}

    # Access: the group's rules are replaced.
    cloud.cli("database", "instance", "update", iid, "--allowed-cidr", "10.30.0.0/16")
    wait_for("the new allowed CIDR in Neutron",
             lambda: sg_rules(user, iid) == [("tcp", "3306:3306", "10.30.0.0/16")])

    # Another project's token sees nothing of it, and cannot act on it.
    status, _, body = cloud.api("GET", f"/instances/{iid}", user="other")
    assert status == 404, body
    status, _, body = cloud.api("GET", "/instances", user="other")
    assert status == 200 and iid not in [i["id"] for i in body["instances"]], body
    other = cloud.cli("database", "instance", "delete", iid, user="other", check=False)
    assert other.returncode != 0
    assert cloud.api("GET", f"/instances/{iid}")[2]["instance"]["status"] == "ACTIVE"

    # Resize volume: Cinder extends the attached volume (API microversion
    # 3.42, its volume manager, the volume-extended event to Nova), then the
    # agent's resize_fs (on the host: no device, nothing to grow).
    cloud.cli("database", "instance", "resize", "volume", iid, "2")
    wait_for("Cinder extending the volume",
             lambda: user.cli_json("volume", "show", f"trove-{iid}")["size"] == 2,
             timeout=120)

    def settled():
        inst = cloud.api("GET", f"/instances/{iid}")[2]["instance"]
        return inst if inst["status"] not in ("RESIZE", "BUILD") else None

    inst_now = wait_for("the resize to end", settled, timeout=120)
    assert inst_now["status"] == "ACTIVE" and inst_now["volume"]["size"] == 2, inst_now
    assert "fault" not in inst_now, inst_now
    vol = user.cli_json("volume", "show", f"trove-{iid}")
    assert vol["status"] == "in-use" and vol["size"] == 2
    # Nova heard of it from Cinder (the volume-extended event it records).
    events = openstack.cli_json("--os-compute-api-version", "2.51", "server", "event", "list",
                                server["ID"])
    assert "extend_volume" in [e["Action"] for e in events], events
    assert "resize_fs" in (cloud.local / "instances" / "vm" / "guestagent.log").read_text()

    # Resize flavor: the database stopped, Nova's resize and confirm, the
    # database started again with the new flavor's config.
    cloud.cli("database", "instance", "resize", "flavor", iid, res.bigger_flavor_id)
    inst_now = wait_for("the flavor resize to end", settled, timeout=300, interval=1)
    assert inst_now["status"] == "ACTIVE" and inst_now["flavor"]["id"] == res.bigger_flavor_id, \
        inst_now
    assert "fault" not in inst_now, inst_now
    shown = openstack.cli_json("--os-compute-api-version", "2.67", "server", "show",
                               server["ID"])
    assert shown["status"] == "ACTIVE" and shown["flavor"]["original_name"] == \
        res.bigger_flavor_id, shown["flavor"]
    actions = [e["Action"] for e in openstack.cli_json(
        "--os-compute-api-version", "2.51", "server", "event", "list", server["ID"])]
    assert "resize" in actions and "confirmResize" in actions, actions
    cloud.wait_status("nova-i1", "ACTIVE", operating="HEALTHY", timeout=120)
    assert {d["Name"] for d in cloud.cli_json("database", "db", "list", iid)} >= {"db1", "db2"}

    # Delete: nothing of it is left in any service.
    cloud.cli("database", "instance", "delete", iid)
    assert cloud.wait_deleted(iid, timeout=180), (
        f"{cloud.api('GET', f'/instances/{iid}')[2]}\n{cloud.log.read_text()[-6000:]}")
    assert leftovers(openstack, user, iid) == {"servers": [], "volumes": [], "ports": [],
                                               "groups": []}
    assert inst["id"] == iid


def test_image_tags_matching_nothing_fail_cleanly(nova_cloud, openstack, service_user,
                                                  resources):
    cloud = nova_cloud
    cloud.cli("datastore", "version", "create", "10.11-untagged", "mariadb", "mariadb", "",
              "--image-tags", f"trove,{resources.tag}-none", "--active", user="admin")
    made = cloud.cli_json("database", "instance", "create", "nova-bad", "--flavor",
                          resources.flavor_id, "--size", "1", "--datastore", "mariadb",
                          "--datastore-version", "10.11-untagged")
    iid = made["id"]
    cloud.wait_status("nova-bad", "ERROR", timeout=60)
    fault = cloud.api("GET", f"/instances/{iid}")[2]["instance"].get("fault", {})
    assert f"No active image has the tags trove,{resources.tag}-none" in fault["message"], fault
    assert nothing_left(openstack, service_user, iid)
    cloud.cli("database", "instance", "delete", iid)
    assert cloud.wait_deleted(iid, timeout=60)


def test_bad_service_credentials_stop_the_taskmanager(tmp_path, service_user, resources):
    bad = ServiceUser.__new__(ServiceUser)
    bad.__dict__.update(service_user.__dict__)
    bad.password = "not-the-password"
    srv = e2e.Server(tmp_path, extra=cloud_conf(bad, resources).replace(
        "[DEFAULT]\n", f"[DEFAULT]\ntransport_url = rabbit://x:y@127.0.0.1:{free_port()}/\n", 1))
    srv.manage("db_sync")
    proc = subprocess.run([CTROVE, "--config-file", str(srv.conf), "taskmanager"],
                          capture_output=True, text=True, timeout=60, env=sanitizer_env())
    assert proc.returncode == 1
    log = srv.log.read_text()
    assert (f"refused the service credentials of user {service_user.username} on project "
            f"{service_user.project} (HTTP 401)") in log
    assert "not-the-password" not in log and service_user.password not in log
