"""Issue 20, row 10: pings follow no redirects, and speak only http and https.

`nobody` runs the ping endpoint: it answers the start ping with a 302 to an FTP address and
the end ping with a 302 to another HTTP address, both its own listeners. Root's runner must
connect to neither, say that the ping failed, and keep the run's exit code.
"""

from __future__ import annotations

import os
import re

from .conftest import SYSTEM_PYTHON, nobody_popen

# As nobody: an HTTP endpoint that redirects, and two listeners that report any connection.
REDIRECTOR = r"""
import http.server, socket, sys, threading
def listener(name):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
    def serve():
        while True:
            c, _ = s.accept(); print("connected", name, flush=True)
            try:
                c.sendall(b"220 hi\r\n" if name == "ftp" else b"")
            finally:
                c.close()
    threading.Thread(target=serve, daemon=True).start()
    return s.getsockname()[1]
ftp, other = listener("ftp"), listener("other")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        print("ping", self.path, flush=True)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(302)
        where = (f"ftp://127.0.0.1:{ftp}/x" if self.path.endswith("/start")
                 else f"http://127.0.0.1:{other}/x")
        self.send_header("Location", where); self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_POST
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
print("port", srv.server_address[1], flush=True)
srv.serve_forever()
"""


def test_row10_a_ping_redirect_is_a_failure_and_is_not_followed(sec_job, run_cli) -> None:
    server = nobody_popen(SYSTEM_PYTHON, "-c", REDIRECTOR)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        m = re.fullmatch(r"port (\d+)\n", first)
        assert m, first
        job = sec_job(ping_url=f"http://127.0.0.1:{m[1]}/ping/uuid")
        (job.source / "a").write_text("a")
        r = run_cli("--config", str(job.config), "run")
        assert r.returncode == 0, r.stderr  # a failed ping never changes the exit code
        assert r.stderr.count("redirect") == 2, r.stderr
        assert "not followed" in r.stderr and "Traceback" not in r.stderr
    finally:
        try:
            os.killpg(server.pid, 9)
        except ProcessLookupError:
            pass
        seen, _ = server.communicate(timeout=10)
    lines = seen.splitlines()
    assert "ping /ping/uuid/start" in lines and "ping /ping/uuid" in lines, lines
    assert not [ln for ln in lines if ln.startswith("connected")], lines
