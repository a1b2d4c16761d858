"""What an attacker (or Trove's own Python peers) can put on the bus, for the e2e
tests: Trove's payload encryption (trove/common/crypto_utils.py), its serializers'
wire forms, the keys a test may read off the machine (the per-instance key in the
guest's config, the master keys in state_path), and a raw py-amqp publisher that
sends whatever body a test builds — plain, sealed, sealed with the wrong key.
"""
import base64
import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path


def encrypt(key, obj):
    """E(key, obj): base64(iv || AES-256-CBC(hex(md5(key)), iv, PKCS#7(json(obj))))."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    data = json.dumps(obj).encode()
    aes_key = hashlib.md5(key.encode()).hexdigest().encode()
    iv = os.urandom(16)
    pad = 16 - len(data) % 16
    enc = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(data + bytes([pad]) * pad) + enc.finalize()).decode()


def decrypt_bytes(key, text):
    """The plaintext of E(key, ...); ValueError when the padding shows another key."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = base64.b64decode(text)
    aes_key = hashlib.md5(key.encode()).hexdigest().encode()
    dec = Cipher(algorithms.AES(aes_key), modes.CBC(raw[:16])).decryptor()
    plain = dec.update(raw[16:]) + dec.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
        raise ValueError("does not decrypt with this key")
    return plain[:-pad]


def decrypt(key, text):
    return json.loads(decrypt_bytes(key, text))


def plain_request(method, args, ctx=None, version="1.0"):
    msg = {"method": method, "args": args, "version": version,
           "_unique_id": uuid.uuid4().hex}
    for k, v in (ctx or {"request_id": "req-" + str(uuid.uuid4())}).items():
        msg["_context_" + k] = v
    return msg


def sealed_request(method, args, key, ctx=None, version="1.0"):
    """SecureSerializer's form (API/taskmanager -> taskmanager or guest)."""
    msg = {"method": method, "version": version, "_unique_id": uuid.uuid4().hex,
           "args": {k: encrypt(key, v) for k, v in args.items()},
           "_context_context": encrypt(key, ctx or {"request_id": "req-" + str(uuid.uuid4())})}
    return msg


def guest_request(method, args, key, instance_id, ctx=None):
    """ConductorGuestSerializer's form (guest -> conductor): each value wrapped with
    the instance id it claims to come from."""
    msg = {"method": method, "version": "1.0", "_unique_id": uuid.uuid4().hex,
           "args": {k: json.dumps({"entity": encrypt(key, v), "csz-instance-id": instance_id})
                    for k, v in args.items()},
           "_context_context": encrypt(key, ctx or {}),
           "_context_csz-instance-id": instance_id}
    return msg


def conductor_guest_serializer(oslo_messaging, key, instance_id):
    """trove/common/rpc/conductor_guest_serializer.py for a Python RPCClient; results
    (a call's reply, sealed by ctrove with the same key) are decrypted."""

    class ConductorGuestSerializer(oslo_messaging.NoOpSerializer):
        def serialize_entity(self, ctxt, entity):
            return json.dumps({"entity": encrypt(key, entity), "csz-instance-id": instance_id})

        def deserialize_entity(self, ctxt, entity):
            return decrypt(key, entity) if isinstance(entity, str) else entity

        def serialize_context(self, ctxt):
            return {"context": encrypt(key, ctxt), "csz-instance-id": instance_id}

    return ConductorGuestSerializer()


def instance_key(cloud, instance_id):
    """The per-instance key, as the local driver wrote it into the guest's config."""
    conf = cloud.local / "instances" / instance_id / "guest.conf"
    for line in conf.read_text().splitlines():
        if line.startswith("instance_rpc_encr_key = "):
            return line.split(" = ", 1)[1].strip()
    raise AssertionError(f"no instance_rpc_encr_key in {conf}")


def master_keys(state_path):
    """The keys ctrove generated on first run (<state_path>/rpc_master_keys)."""
    keys = {}
    for line in (Path(state_path) / "rpc_master_keys").read_text().splitlines():
        if " = " in line and not line.startswith("#"):
            name, value = line.split(" = ", 1)
            keys[name] = value
    return keys


def conf_value(conf_path, name):
    """The value ctrove reads: the last `name = ...` line wins."""
    values = [line.split("=", 1)[1].strip() for line in Path(conf_path).read_text().splitlines()
              if line.split("=", 1)[0].strip() == name]
    assert values, f"{name} not in {conf_path}"
    return values[-1]


class Bus:
    """A py-amqp connection publishing hand-made bodies to the control exchange, with
    its own reply queue for calls."""

    def __init__(self, transport_url, exchange):
        import amqp

        creds, host = transport_url.split("://", 1)[1].rstrip("/").split("@", 1)
        user, password = creds.split(":", 1)
        self.exchange = exchange
        self.conn = amqp.Connection(host=host, userid=user, password=password)
        self.conn.connect()
        self.ch = self.conn.channel()
        self.queue = self.ch.queue_declare("", exclusive=True, auto_delete=True).queue
        self.replies = {}
        self.ch.basic_consume(self.queue, callback=self._on_reply, no_ack=True)

    def _on_reply(self, msg):
        inner = json.loads(json.loads(msg.body)["oslo.message"])
        self.replies[inner["_msg_id"]] = inner

    def send(self, topic, inner, call=False):
        """Publish one request (cast, or call when asked); returns its msg id."""
        msg_id = uuid.uuid4().hex
        inner = dict(inner)
        if call:
            inner.update({"_msg_id": msg_id, "_reply_q": self.queue, "_timeout": None})
        self.publish(json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}),
                     topic)
        return msg_id

    def publish(self, body, topic):
        """Publish any body (str or bytes) as it is."""
        import amqp

        if isinstance(body, str):
            body = body.encode()
        self.ch.basic_publish(amqp.Message(body, content_type="application/json",
                                           delivery_mode=2),
                              exchange=self.exchange, routing_key=topic)

    def wait_reply(self, msg_id, timeout=15):
        import socket

        deadline = time.time() + timeout
        while msg_id not in self.replies and time.time() < deadline:
            try:
                self.conn.drain_events(timeout=0.2)
            except socket.timeout:
                pass
        return self.replies.get(msg_id)

    def close(self):
        self.conn.close()


def login(url):
    """(user, password, host:port) of a one-host transport_url."""
    creds, host = url.split("://", 1)[1].split("/", 1)[0].split("@", 1)
    user, password = creds.split(":", 1)
    return urllib.parse.unquote(user), urllib.parse.unquote(password), host


def management(cloud, method, path):
    """(status, JSON or None) of one management API call as the control plane."""
    user, password, _ = login(conf_value(cloud.conf, "transport_url"))
    base = conf_value(cloud.conf, "management_url")
    req = urllib.request.Request(base.rstrip("/") + "/api/" + path, method=method)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    req.add_header("Authorization", f"Basic {auth}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            data = r.read()
            return r.status, json.loads(data) if data else None
    except urllib.error.HTTPError as e:
        return e.code, None
