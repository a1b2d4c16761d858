"""The OpenStack the cloud tests run against answers as they expect: the admin
gets a token from the real Keystone, and a ctrove endpoint registered under a
region of its own is in the catalog (and only there)."""


def test_admin_token_and_private_region(openstack, database_region):
    token = openstack.cli_json("token", "issue")
    assert token["id"] and token["project_id"]
    region = database_region("http://127.0.0.1:1/v1.0/%(tenant_id)s")
    endpoints = openstack.cli_json("endpoint", "list", "--region", region)
    assert [e["URL"] for e in endpoints] == ["http://127.0.0.1:1/v1.0/%(tenant_id)s"]
    assert all(e["Service Type"] == "database" for e in endpoints)
