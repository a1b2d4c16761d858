"""One project cannot starve another of the API's guest-call threads (issue
10): with project one's guest agent stopped and more of its calls pending than
the wait pool has threads, project two's calls to its own guest are answered
at once; project one's calls all complete once its agent resumes."""
import os
import signal
import threading
import time

from test_tenants import make_tenant, wait_active

CALLS = 24  # more than api_guest_call_threads (16)


def create(cloud, user, name):
    status, _, body = cloud.api("POST", "/instances", {"instance": {
        "name": name, "flavorRef": 12, "volume": {"size": 1},
        "datastore": {"type": "mariadb", "version": "10.11"},
        "databases": [{"name": "app"}]}}, user=user)
    assert status == 200, body
    return wait_active(cloud, user, name)["id"]


def test_a_hung_guest_of_one_project_does_not_delay_another(cloud):
    make_tenant(cloud, "share-one", "share-user-one")
    make_tenant(cloud, "share-two", "share-user-two")
    one = create(cloud, "share-user-one", "share-db-one")
    two = create(cloud, "share-user-two", "share-db-two")
    pid = int((cloud.local / "instances" / one / "guestagent.pid").read_text().split()[0])
    results = []

    def list_databases():
        results.append(cloud.api("GET", f"/instances/{one}/databases",
                                 user="share-user-one")[0])

    threads = [threading.Thread(target=list_databases) for _ in range(CALLS)]
    os.kill(pid, signal.SIGSTOP)
    try:
        for t in threads:
            t.start()
        time.sleep(2)  # every call of project one waits on the stopped guest
        assert results == []
        started = time.monotonic()
        status, _, body = cloud.api("GET", f"/instances/{two}/databases",
                                    user="share-user-two")
        waited = time.monotonic() - started
        assert status == 200 and [d["name"] for d in body["databases"]] == ["app"], body
        # Without a share it would queue behind calls that wait up to 180 s.
        assert waited < 30, waited
        assert results == []
    finally:
        os.kill(pid, signal.SIGCONT)
    for t in threads:
        t.join(120)
    assert results == [200] * CALLS
    for user, iid in (("share-user-one", one), ("share-user-two", two)):
        assert cloud.api("DELETE", f"/instances/{iid}", user=user)[0] == 202
        deadline = time.time() + 60
        while cloud.api("GET", f"/instances/{iid}", user=user)[0] != 404:
            assert time.time() < deadline, f"{iid} not deleted"
            time.sleep(0.2)
