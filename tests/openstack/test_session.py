"""src/openstack/session.c against the real Keystone: a service user of the
test's own authenticates with [service_credentials] and gets its project and
the catalog's endpoints (`ctrove openstack-check`); a wrong password, an
unknown project and an unreachable Keystone are clear errors; neither the
password nor a token is printed; no sanitizer report, no leak."""
import re

import pytest

from nova_lib import SANITIZER_RE, ServiceUser, openstack_check


@pytest.fixture(scope="module")
def service_user(openstack):
    user = ServiceUser(openstack)
    yield user
    user.remove()


def write(tmp_path, text):
    conf = tmp_path / "trove.conf"
    conf.write_text(text)
    return conf


def test_service_session_gets_project_and_catalog(service_user, openstack, tmp_path):
    rc, out, err = openstack_check(write(tmp_path, service_user.conf()))
    assert rc == 0, err
    assert not SANITIZER_RE.search(err), err
    assert out["project_id"] == service_user.project_id
    eps = out["endpoints"]
    # What Keystone's own catalog says for this region, public interface.
    listed = openstack.cli_json("endpoint", "list", "--interface", "public",
                                "--region", openstack.region)
    by_type = {e["Service Type"]: e["URL"].rstrip("/") for e in listed}
    for kind in ("identity", "compute", "image", "network"):
        assert eps[kind] == by_type[kind], (kind, eps, by_type)
    # volumev3's %(project_id)s is substituted with the token's project.
    assert eps["volumev3"].endswith("/v3/" + service_user.project_id)
    # A token never fits a 16-byte buffer: refused, not cut.
    assert out["small_token_buffer_refused"] is True


def test_auth_url_without_v3_is_completed(service_user, openstack, tmp_path):
    root = re.sub(r"/v3/?$", "", openstack.auth_url)
    rc, out, err = openstack_check(write(tmp_path, service_user.conf(auth_url=root + "/")))
    assert rc == 0, err
    assert out["project_id"] == service_user.project_id


def test_wrong_password_is_a_clear_error(service_user, tmp_path):
    rc, out, err = openstack_check(write(tmp_path, service_user.conf(password="not-it")))
    assert rc == 1 and out is None
    assert "refused the service credentials of user " + service_user.username in err
    assert "HTTP 401" in err
    assert "not-it" not in err and service_user.password not in err


def test_unknown_project_is_a_clear_error(service_user, tmp_path):
    conf = service_user.conf().replace(f"project_name = {service_user.project}",
                                       "project_name = nova-no-such-project")
    rc, _, err = openstack_check(write(tmp_path, conf))
    assert rc == 1
    assert "on project nova-no-such-project" in err


def test_unreachable_keystone_names_it(service_user, tmp_path):
    rc, _, err = openstack_check(write(tmp_path, service_user.conf(
        auth_url="http://127.0.0.1:1/v3")))
    assert rc == 1
    assert "Keystone at http://127.0.0.1:1/v3/auth/tokens did not answer" in err


def test_missing_options_are_named(tmp_path):
    rc, _, err = openstack_check(write(tmp_path, "[service_credentials]\n"
                                                 "auth_url = http://127.0.0.1:5000/v3\n"))
    assert rc == 1
    assert "[service_credentials] needs username, password and project_name" in err
    rc, _, err = openstack_check(write(tmp_path, "[service_credentials]\nauth_url = ftp://x\n"))
    assert rc == 1 and "auth_url must be an http(s) URL" in err
