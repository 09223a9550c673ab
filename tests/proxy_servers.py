"""Debian's nginx in front of the app under test, configured from the shipped example
(docs/deploy/nginx-gridwall.conf and nginx-proxy-params.conf): the test runs the very file an
operator copies, with this run's ports and paths put in place of its @VALUES@."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from servers import _stop, _wait, die_with_spawning_thread

from dashboard.launcher import free_port
from feeds.broker import wait_for_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy"


def nginx_binary() -> str | None:
    """Debian's nginx: on PATH, or in /usr/sbin (not on a non-root user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def _without(built: str, module: str) -> bool:
    """Is ``module`` left out of this nginx (``built``: what ``nginx -V`` says)? Debian's
    lighter builds leave some out, and their directives are then unknown."""
    return f"--without-http_{module}_module" in built


def nginx_missing() -> str | None:
    return None if nginx_binary() else "nginx"


class Nginx:
    """nginx on two free ports: ``url`` (people: basic auth, X-Remote-User set by nginx) and
    ``screens_url`` (kiosks: no sign-in, X-Remote-User cleared). It connects to the app from
    ``bind`` (a loopback address of its own, so the app can tell the proxy from a client)."""

    def __init__(self, workdir: Path, upstream: str, users: dict[str, str], bind: str = "127.0.0.3") -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port, self.screens_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.screens_url = f"http://127.0.0.1:{self.screens_port}"
        htpasswd = workdir / "htpasswd"
        # nginx reads {SHA} (salt-free SHA-1) entries: fine for a test's throwaway passwords.
        htpasswd.write_text("".join(f"{u}:{{SHA}}{base64.b64encode(hashlib.sha1(p.encode()).digest()).decode()}\n"
                                    for u, p in users.items()))
        params = workdir / "proxy-params.conf"
        params.write_text((DEPLOY / "nginx-proxy-params.conf").read_text().replace("@PROXY_BIND@", f"proxy_bind {bind};"))
        site = (DEPLOY / "nginx-gridwall.conf").read_text()
        for key, value in {"@UPSTREAM@": upstream, "@LISTEN@": f"127.0.0.1:{self.port}",
                           "@LISTEN_SCREENS@": f"127.0.0.1:{self.screens_port}", "@HTPASSWD@": str(htpasswd),
                           "@PROXY_PARAMS@": str(params)}.items():
            site = site.replace(key, value)
        assert "@" not in "".join(line.split("#")[0] for line in site.splitlines()), "a value left to fill"
        (workdir / "site.conf").write_text(site)
        # Every temp directory in the workdir: the compiled-in ones (/var/lib/nginx/...) are
        # created at start, which only root may do.
        built = subprocess.run([nginx_binary() or "nginx", "-V"], capture_output=True, text=True).stderr
        temps = " ".join([f"client_body_temp_path {workdir / 'body'};"] + [
            f"{m}_temp_path {workdir / m};" for m in ("proxy", "fastcgi", "uwsgi", "scgi") if not _without(built, m)])
        for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (workdir / d).mkdir(exist_ok=True)
        # As root, the workers would otherwise run as www-data, which cannot read the workdir.
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf = workdir / "nginx.conf"
        self.conf.write_text(f"""
{user}
worker_processes 1;
pid {workdir / 'nginx.pid'};
error_log {workdir / 'error.log'} info;
events {{ worker_connections 64; }}
http {{
    access_log {workdir / 'access.log'};
    {temps}
    include {workdir / 'site.conf'};
}}
""")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.workdir / "nginx.out", "ab")  # noqa: SIM115
        argv = [nginx_binary() or "nginx", "-p", str(self.workdir), "-c", str(self.conf), "-g", "daemon off;"]
        self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_spawning_thread())
        out.close()
        _wait(lambda: wait_for_port("127.0.0.1", self.port, 0.2), "nginx", self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def log(self) -> str:
        parts = [self.workdir / "nginx.out", self.workdir / "error.log"]
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in parts if p.exists())
