"""bench/compare/https.py: ctrove's GET /instances over HTTPS beside plain HTTP,
a part of the API comparison (bench/compare/bench.py calls run() after its
rows). Same process, same data, same wrk settings (keep-alive: wrk reuses its
connections, so the figure is the steady state of TLS records, not handshakes).

HTTP is measured first; then `ctrove all` is stopped, given a certificate from
the ctrove CA (`ctrove manage issue_certificate --san 127.0.0.1`) in [ssl]
cert_file/key_file, started again and measured over HTTPS. Owns only the
certificate directory under ctrove's own bench directory and the restart."""
import ssl
import urllib.request

from benchlib import log, memory_kb


def run(runner, ctrove, procs, rows, n, path):
    """{"n", "http", "https", "ratio", "rss_kb"} for GET path with n instances."""
    ctrove.seed(rows)
    plain = runner.measure(ctrove, "GET /instances (HTTP)", n, path)
    rss_http = memory_kb(ctrove.pids())

    tls_dir = ctrove.dir / "api-tls"
    ctrove.manage("issue_certificate", "--san", "127.0.0.1", "--san", "localhost",
                  "--out", str(tls_dir))
    with open(ctrove.conf, "a") as f:
        f.write(f"[ssl]\ncert_file = {tls_dir / 'cert.pem'}\n"
                f"key_file = {tls_dir / 'key.pem'}\n")
    # The bench's own requests (token, first GET) verify the certificate.
    context = ssl.create_default_context(cafile=str(tls_dir / "ca.pem"))
    urllib.request.install_opener(
        urllib.request.build_opener(urllib.request.HTTPSHandler(context=context)))
    procs.stop(ctrove.proc)
    ctrove.base = ctrove.base.replace("http://", "https://")
    ctrove.start()
    secure = runner.measure(ctrove, "GET /instances (HTTPS)", n, path)
    rss_https = memory_kb(ctrove.pids())
    ratio = secure["rps"] / plain["rps"] if plain["rps"] else None
    log(f"HTTPS/HTTP GET /instances N={n}: {ratio:.2f}" if ratio else "HTTPS: no figure")
    return {"n": n, "http": plain, "https": secure, "ratio": ratio,
            "rss_kb": {"http": rss_http, "https": rss_https},
            "connections": runner.conns}


def print_table(result, table, fmt_num):
    h, s = result["http"], result["https"]
    head = ["GET /instances", "N", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "RSS MiB after"]
    rows = []
    for label, r, rss in (("HTTP", h, result["rss_kb"]["http"]),
                          ("HTTPS", s, result["rss_kb"]["https"])):
        rows.append([label, str(result["n"]), fmt_num(r["rps"]), fmt_num(r["p50_ms"]),
                     fmt_num(r["p99_ms"]), fmt_num(r["cpu_ms_per_req"]),
                     fmt_num(rss["rss_kb"] / 1024 if rss.get("rss_kb") else None)])
    print(f"== ctrove HTTPS beside HTTP (same process restarted with [ssl], keep-alive, "
          f"{result['connections']} connections; TLS 1.3 from libmicrohttpd/GnuTLS)")
    print(table(head, rows))
    ratio = result["ratio"]
    print(f"HTTPS keeps {ratio * 100:.0f} % of HTTP's req/s" if ratio else "HTTPS: n/a")
