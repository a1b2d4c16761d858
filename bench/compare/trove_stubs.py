"""Zero-cost stand-ins for the services Trove 18's API calls while it lists
and shows instances: Nova (servers, server groups), Neutron (ports, floating
IPs) and the guest agent (volume info). Trove loads them through its own
pluggable-client options, set by bench/compare/bench.py:

    remote_nova_client    = trove_stubs.nova
    remote_neutron_client = trove_stubs.neutron
    remote_guest_client   = trove_stubs.guest

Without them Trove 18 answers 500 on every instance call when there is no
Keystone (it authenticates its service user before reading its database).

The fake Nova knows the servers named in the file $TROVE_STUB_SERVERS, one
compute_instance_id per line; bench.py rewrites the file whenever it reseeds
the database and the stub rereads it when its mtime changes. Every known
server is ACTIVE with flavor 1; unknown ids raise novaclient's NotFound.
Every server has one port with one fixed IPv4 address and no floating IP.
"""

import os

from novaclient import exceptions as _nova_exc


class Server:
    """The attributes of novaclient's Server that Trove's views read."""

    def __init__(self, server_id):
        self.id = server_id
        self.name = server_id
        self.status = "ACTIVE"
        self.flavor = {"id": "1"}
        self.addresses = {}
        self.networks = {}


class _Catalog:
    def __init__(self):
        self.stamp = None
        self.servers = []
        self.index = {}

    def refresh(self):
        path = os.environ.get("TROVE_STUB_SERVERS", "")
        try:
            stamp = os.stat(path).st_mtime_ns
        except OSError:
            return self
        if stamp != self.stamp:
            with open(path, encoding="ascii") as f:
                servers = [Server(line.strip()) for line in f if line.strip()]
            self.index = {s.id: s for s in servers}
            self.servers = servers
            self.stamp = stamp
        return self


_CATALOG = _Catalog()


class _ServerManager:
    def list(self, detailed=True, search_opts=None, marker=None, limit=None, **kwargs):
        return list(_CATALOG.refresh().servers)

    def get(self, server_id):
        server = _CATALOG.refresh().index.get(server_id)
        if server is None:
            raise _nova_exc.NotFound(404, "Server %s could not be found." % server_id)
        return server


class _ServerGroupManager:
    def list(self, *args, **kwargs):
        return []


class _NovaClient:
    servers = _ServerManager()
    server_groups = _ServerGroupManager()


class _NeutronClient:
    def list_ports(self, device_id=None, **kwargs):
        if device_id is None:
            return {"ports": []}
        return {"ports": [{"id": "port-" + device_id, "network_id": "bench-net",
                           "fixed_ips": [{"subnet_id": "bench-subnet",
                                          "ip_address": "10.0.0.10"}]}]}

    def list_floatingips(self, **kwargs):
        return {"floatingips": []}


class _GuestClient:
    def get_volume_info(self):
        return {"used": 0.12, "total": 4.87}


_NOVA = _NovaClient()
_NEUTRON = _NeutronClient()
_GUEST = _GuestClient()


def nova(context, region_name=None, password=None, **kwargs):
    return _NOVA


def neutron(context, region_name=None, **kwargs):
    return _NEUTRON


def guest(context, instance_id, manager=None, **kwargs):
    return _GUEST
