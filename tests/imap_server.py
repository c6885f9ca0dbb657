"""A real IMAP server for the tests: Debian's dovecot, started on 127.0.0.1 by the test session.

Everything lives in one temporary folder: the configuration, a self-signed certificate (made with
``openssl``, valid for ``localhost`` and ``127.0.0.1``), a passwd-file with one throw-away user,
the maildirs, dovecot's runtime and state folders and its log. The server listens on two free
ports: plain IMAP (which offers STARTTLS) and IMAPS. Plain-text login is allowed because it only
ever listens on loopback. Mail is owned by ``nobody``, the dovecot processes run as the users
the Debian package creates (``dovecot``, ``dovenull``).

Test messages are delivered with IMAP APPEND, exactly as a mail program files a message.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backoffice.config import MailboxSettings
from tests.services import free_port

DOVECOT = "/usr/sbin/dovecot"
USER = "kunde"
PASSWORD = "geheim-123"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = backoffice-test-{port}
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
# A test logs in with a wrong password on purpose: no delay, no growing per-IP penalty.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
"""


@dataclass
class ImapServer:
    port: int
    ssl_port: int
    root: Path
    user: str = USER
    password: str = PASSWORD
    host: str = "127.0.0.1"

    @property
    def ca_file(self) -> Path:
        """The server's self-signed certificate, to be trusted as CA by the client."""
        return self.root / "cert.pem"

    def mailbox(
        self, folder: str = "INBOX", *, tls: str = "starttls", **overrides: Any
    ) -> MailboxSettings:
        """Settings for fetching ``folder`` of the test user."""
        values: dict[str, Any] = {
            "name": f"test-{folder}",
            "host": "localhost" if tls != "plain" else self.host,
            "port": self.ssl_port if tls == "imaps" else self.port,
            "user": self.user,
            "password": self.password,
            "tls": tls,
            "ca_file": self.ca_file,
            "folder": folder,
            "timeout_seconds": 10,
        }
        values.update(overrides)
        return MailboxSettings(**values)

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in connection for arranging and checking the test mailbox."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.starttls(ssl_context=ssl.create_default_context(cafile=str(self.ca_file)))
            conn.login(self.user, self.password)
            yield conn
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()

    def create_folder(self, name: str) -> None:
        with self.client() as conn:
            typ, data = conn.create(f'"{name}"')
            assert typ == "OK", data

    def append(self, folder: str, message: bytes, *, flags: str = "") -> None:
        with self.client() as conn:
            typ, data = conn.append(f'"{folder}"', f"({flags})" if flags else None, None, message)
            assert typ == "OK", data

    def flags(self, folder: str) -> dict[int, set[str]]:
        """UID → flags of every message in ``folder``."""
        with self.client() as conn:
            typ, data = conn.select(f'"{folder}"', readonly=True)
            assert typ == "OK", data
            typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            out: dict[int, set[str]] = {}
            for item in data:
                if not isinstance(item, bytes):
                    continue
                text = item.decode()
                uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                inner = text.split("FLAGS (", 1)[1].split(")", 1)[0]
                out[uid] = set(inner.split())
            return out

    def unseen(self, folder: str) -> list[int]:
        return sorted(uid for uid, flags in self.flags(folder).items() if "\\Seen" not in flags)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on {port}")


@contextlib.contextmanager
def imap_server() -> Iterator[ImapServer]:
    """A fresh dovecot with one user, on free loopback ports; removed afterwards."""
    if not os.path.exists(DOVECOT):
        raise RuntimeError("dovecot not found; install Debian's dovecot-imapd")
    root = Path(tempfile.mkdtemp(prefix="backoffice-imap-"))
    root.chmod(0o755)  # the mail processes run as nobody and must reach the maildirs
    nobody = pwd.getpwnam("nobody")
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    os.chown(root / "mail", nobody.pw_uid, nobody.pw_gid)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port, ssl_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        _CONFIG.format(
            root=root, port=port, ssl_port=ssl_port, uid=nobody.pw_uid, gid=nobody.pw_gid
        )
    )
    log = root / "dovecot.log"
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_port(port, proc, log)
        _wait_for_port(ssl_port, proc, log)
        yield ImapServer(port, ssl_port, root)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)
