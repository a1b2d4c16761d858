"""bench/soak/client.py: one HTTP exchange with ctrove and its verdict. Every
request of the soak goes through `Tally.call` (well-formed requests) or
`Tally.raw` (bytes as given: malformed request lines, bad UTF-8, huge
headers), which classifies the answer against what the caller expected:
an expected status is fine; a 5xx (but a 501 notImplemented the caller
allowed), a connection reset or close without an answer, a timeout or any
other status is a failure, kept with the request that caused it. Owns no
process; sends only to the address it is given.
"""
import collections
import http.client
import json
import re
import socket
import threading
import time

TIMEOUT = 60.0  # s; a request that takes longer is a failure
# Trove's answers to a client that races the instance's own task: a
# configuration apply shows ACTIVE while its task is UPDATING (Trove's status
# rules), so the next change may be refused until the task ends. A caller
# that allows them (busy_ok) retries; they are counted apart.
BUSY = re.compile(r"cannot be executed because the instance status is currently|"
                  r"is not currently available for an action to be performed")


def describe(statuses):
    """200/202, or 2xx/4xx for whole classes."""
    statuses = set(statuses)
    parts = []
    for base in (200, 300, 400, 500):
        block = set(range(base, base + 100))
        if block <= statuses:
            parts.append(f"{base // 100}xx")
            statuses -= block
    return "/".join(parts + [str(s) for s in sorted(statuses)])


class Answer:
    def __init__(self, status, body, headers=None, seconds=0.0):
        self.status = status
        self.body = body  # parsed JSON, raw bytes when it is not JSON, None
        self.headers = headers or {}
        self.seconds = seconds
        self.busy = False

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300


class Tally:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.lock = threading.Lock()
        self.by_class = collections.Counter()  # "2xx", "4xx", "5xx", "reset", "timeout"
        self.by_kind = collections.Counter()   # what the caller said it was doing
        self.failures = []                     # (time, kind, request, what happened)
        self.slowest = (0.0, "")
        self.local = threading.local()

    # -- transport ---------------------------------------------------------
    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            self.local.conn = c
        return c

    def _drop(self):
        c = getattr(self.local, "conn", None)
        if c is not None:
            c.close()
        self.local.conn = None

    def call(self, kind, method, path, body=None, token=None, expect=(200,), headers=None,
             raw_body=None, allow_501=False, busy_ok=False, allow_reset=False):
        """One request on this thread's kept-alive connection. `expect`: the
        statuses that are this request's right answers."""
        data = raw_body if raw_body is not None else (
            json.dumps(body).encode() if body is not None else None)
        hdrs = {"Accept": "application/json"}
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        if token:
            hdrs["X-Auth-Token"] = token
        hdrs.update(headers or {})
        shown = f"{method} {path}" + (f" body={data[:300]!r}" if data else "")
        t0 = time.monotonic()
        for attempt in (0, 1):
            c = self._conn()
            try:
                c.request(method, path, body=data, headers=hdrs)
                r = c.getresponse()
                payload = r.read()
                status, rh = r.status, dict(r.getheaders())
                if rh.get("Connection", "").lower() == "close":
                    self._drop()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as e:
                self._drop()
                # A kept-alive connection the server closed while idle is
                # not a failure of this request: retry once on a new one.
                if attempt == 0 and isinstance(e, http.client.RemoteDisconnected):
                    continue
                if allow_reset:
                    return self._count(kind, "closed", t0, shown)
                return self._record(kind, shown, None, f"connection reset: {e!r}", t0)
            except socket.timeout:
                self._drop()
                return self._record(kind, shown, None, f"timeout after {TIMEOUT:.0f} s", t0)
            except OSError as e:
                self._drop()
                return self._record(kind, shown, None, f"connection error: {e!r}", t0)
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload
        ans = Answer(status, parsed, rh, time.monotonic() - t0)
        if busy_ok and status in (400, 422) and BUSY.search(str(parsed)):
            ans.busy = True
            self._count(kind, "4xx busy", 0, shown, ans.seconds)
            return ans
        return self._judge(kind, shown, ans, expect, allow_501)

    def raw(self, kind, request_bytes, expect, allow_close=False, shown=None):
        """Bytes as given on a fresh connection; the status line is read back.
        allow_close: the server may close without answering (never for a
        request it could have answered)."""
        shown = shown or repr(request_bytes[:300])
        t0 = time.monotonic()
        try:
            with socket.create_connection((self.host, self.port), TIMEOUT) as s:
                s.settimeout(TIMEOUT)
                # The request and the FIN in one segment: the server must see
                # both (libmicrohttpd's epoll mode once missed that FIN).
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                try:
                    s.sendall(request_bytes)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the answer may still be there to read
                s.shutdown(socket.SHUT_WR)
                head = b""
                while b"\r\n" not in head and len(head) < 65536:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    head += chunk
        except socket.timeout:
            return self._record(kind, shown, None, f"timeout after {TIMEOUT:.0f} s", t0)
        except ConnectionResetError as e:
            if allow_close:
                return self._count(kind, "closed", t0, shown)
            return self._record(kind, shown, None, f"connection reset: {e!r}", t0)
        except OSError as e:
            return self._record(kind, shown, None, f"connection error: {e!r}", t0)
        if not head:
            if allow_close:
                return self._count(kind, "closed", t0, shown)
            return self._record(kind, shown, None, "closed without an answer", t0)
        try:
            status = int(head.split(b"\r\n", 1)[0].split()[1])
        except (IndexError, ValueError):
            return self._record(kind, shown, None, f"not an HTTP answer: {head[:100]!r}", t0)
        return self._judge(kind, shown, Answer(status, None, {}, time.monotonic() - t0),
                           expect, False)

    # -- verdicts ----------------------------------------------------------
    def _judge(self, kind, shown, ans, expect, allow_501):
        if ans.status in expect or (allow_501 and ans.status == 501 and
                                    isinstance(ans.body, dict) and "notImplemented" in ans.body):
            # 501/505 for an unknown method or version are HTTP's right answers
            cls = f"{ans.status // 100}xx" if ans.status < 500 else f"{ans.status} expected"
            self._count(kind, cls, 0, shown, ans.seconds)
            return ans
        return self._record(kind, shown, ans, f"answered {ans.status} (expected "
                            f"{describe(expect)}): {str(ans.body)[:400]}", 0)

    def _count(self, kind, cls, t0, shown, seconds=None):
        seconds = seconds if seconds is not None else time.monotonic() - t0
        with self.lock:
            self.by_class[cls] += 1
            self.by_kind[kind] += 1
            if seconds > self.slowest[0]:
                self.slowest = (seconds, shown[:200])
        return Answer(None, None, {}, seconds)

    def _record(self, kind, shown, ans, what, t0):
        cls = "failed"
        if ans is not None and ans.status >= 500:
            cls = "5xx"
        elif "reset" in what or "closed" in what or "connection" in what:
            cls = "reset"
        elif "timeout" in what:
            cls = "timeout"
        elif ans is not None:
            cls = "unexpected"
        with self.lock:
            self.by_class[cls] += 1
            self.by_kind[kind] += 1
            self.failures.append((time.strftime("%H:%M:%S"), kind, shown[:400], what))
        print(f"{time.strftime('%H:%M:%S')} FAILURE [{kind}] {shown[:400]}\n    -> {what}",
              flush=True)
        return ans if ans is not None else Answer(None, None, {}, time.monotonic() - t0)

    def note_failure(self, kind, what):
        """A failure that is not one request's answer (a stuck status)."""
        with self.lock:
            self.by_class["stuck"] += 1
            self.failures.append((time.strftime("%H:%M:%S"), kind, "", what))
        print(f"{time.strftime('%H:%M:%S')} FAILURE [{kind}] {what}", flush=True)
