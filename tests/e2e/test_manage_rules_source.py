"""`ctrove manage db_load_datastore_config_parameters` reads its rules from a
path or an http(s) URL only (issue 10): file:// and other protocols are
refused, a redirect may not lead to one, the size limit holds on the bytes
actually read (chunked answers too), and no error quotes the source's text."""
import http.server
import threading

import pytest

SECRET = "do-not-echo-this-secret-8c1f"
LIMIT = 16 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/redirect-to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/chunked-huge":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"[" * 65536
            try:
                for _ in range(LIMIT // len(chunk) + 8):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the reader stopped at its limit
        elif self.path == "/secret":
            body = (SECRET + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def web():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def version(server):
    server.manage("datastore_update", "rulesds", "")
    server.manage("datastore_version_update", "rulesds", "1.0", "mariadb", "", "", "1")
    return server


def load(server, source):
    return server.manage("db_load_datastore_config_parameters", "rulesds", "1.0", source,
                         check=False)


def refused(out):
    assert out.returncode != 0, out.stdout
    return out.stdout + out.stderr


def parameters(server):
    return server.cli_json("database", "configuration", "parameter", "list", "1.0",
                           "--datastore", "rulesds")


def test_the_allowed_forms_still_load(version, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text('{"configuration-parameters": [{"name": "max_connections", '
                     '"type": "integer", "min": 1, "max": 100000, '
                     '"restart_required": false}]}')
    out = load(version, str(rules))
    assert out.returncode == 0 and "Loaded 1" in out.stdout, out.stderr
    assert [p["Name"] for p in parameters(version)] == ["max_connections"]


@pytest.mark.parametrize("source", ["file:///etc/passwd", "ftp://127.0.0.1/x",
                                    "gopher://127.0.0.1/x", "dict://127.0.0.1:1/x"])
def test_other_protocols_are_refused(version, source):
    text = refused(load(version, source))
    assert "only http and https" in text
    assert "root:" not in text


def test_a_redirect_to_a_file_is_refused(version, web):
    text = refused(load(version, web + "/redirect-to-file"))
    assert "root:" not in text
    assert [p["Name"] for p in parameters(version)] == ["max_connections"]


def test_the_size_limit_holds_for_a_chunked_answer(version, web):
    text = refused(load(version, web + "/chunked-huge"))
    assert "larger than" in text


def test_an_error_never_quotes_the_source(version, web, tmp_path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET + "\n")
    for source in (str(secret_file), web + "/secret"):
        text = refused(load(version, source))
        assert "not valid JSON" in text
        assert SECRET not in text
    bad_rule = tmp_path / "bad-rule.json"
    bad_rule.write_text('{"configuration-parameters": [{"name": "%s", "type": "%s", '
                        '"restart_required": false}]}' % (SECRET, SECRET))
    text = refused(load(version, str(bad_rule)))
    assert "configuration-parameters[0]" in text and SECRET not in text
    assert [p["Name"] for p in parameters(version)] == ["max_connections"]
