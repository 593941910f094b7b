"""Facts without a release: the operator's override merged over the shipped knowledge, refused
with one clear line when it does not fit; `check-links` asking real servers (HTTPS on
127.0.0.1, with its own certificate) what became of every address."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conversations.knowledge import load, merged

ROOT = Path(__file__).resolve().parents[2]


def test_the_override_is_merged_over_the_shipped_facts(tmp_path: Path) -> None:
    """A moved form and a corrected authority address: only those change."""
    override = tmp_path / "override.toml"
    override.write_text(
        "[forms.fb_object_eu_2025]\n"
        'url = "https://www.facebook.com/help/contact/999"\n'
        "last_verified = 2026-12-01\n"
        "[regulators.fr]\n"
        'complaint_url = "https://www.cnil.fr/fr/plaintes/nouvelle"\n'
    )
    shipped, changed = load(), load(override=override)
    form = changed.forms["fb_object_eu_2025"]
    assert form.url == "https://www.facebook.com/help/contact/999"
    assert form.last_verified == dt.date(2026, 12, 1)
    assert form.title == shipped.forms["fb_object_eu_2025"].title  # the rest of it kept
    assert changed.regulators["fr"].complaint_url == "https://www.cnil.fr/fr/plaintes/nouvelle"
    assert changed.regulators["fr"].name == shipped.regulators["fr"].name
    assert changed.forms["ig_object_eu_2025"] == shipped.forms["ig_object_eu_2025"]


def test_tables_merge_and_everything_else_is_replaced_whole() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "t": {"en": "old", "de": "alt"}, "k": 1}
    override = {"a": {"y": [3]}, "t": {"en": "new"}, "n": 2}
    assert merged(base, override) == {
        "a": {"x": 1, "y": [3]},
        "t": {"en": "new"},  # a text is replaced with its languages, not mixed with old ones
        "k": 1,
        "n": 2,
    }
    assert base["a"] == {"x": 1, "y": [1, 2]}  # not changed in place


def cli(*args: str, override: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPTOUT_")}
    clean |= {"OPTOUT_KNOWLEDGE_OVERRIDE": str(override), "OPTOUT_LOG_LEVEL": "WARNING", **env}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=ROOT,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


LETTER = ("letter", "--country", "FR", "--platform", "facebook", "--email", "a@example.org")


def test_a_bad_override_stops_with_one_line(tmp_path: Path) -> None:
    """Wrong types, a wrong URL scheme, broken TOML, a missing file: exit 2, one line saying
    what and where, no traceback; the shipped facts are never used instead."""
    override = tmp_path / "override.toml"
    override.write_text('[forms.fb_object_eu_2025]\nurl = "http://insecure.example"\n')
    done = cli(*LETTER, override=override)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"the knowledge override {override} does not fit the knowledge data" in done.stderr
    assert "forms.fb_object_eu_2025.url" in done.stderr
    assert done.stdout == ""
    override.write_text("[forms.fb_object_eu_2025\n")
    done = cli(*LETTER, override=override)
    assert done.returncode == 2 and "cannot read the knowledge override" in done.stderr
    done = cli(*LETTER, override=tmp_path / "missing.toml")
    assert done.returncode == 2 and "cannot read the knowledge override" in done.stderr
    fine = tmp_path / "fine.toml"
    fine.write_text('[regulators.fr]\ncomplaint_url = "https://www.cnil.fr/fr/plaintes/nouvelle"\n')
    done = cli(*LETTER, "--kind", "complaint", override=fine)
    assert done.returncode == 0 and "https://www.cnil.fr/fr/plaintes/nouvelle" in done.stdout


@contextmanager
def https_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on 127.0.0.1 with a certificate made for it; yields (port, the
    certificate, for SSL_CERT_FILE). /ok is fine, /old redirects to /ok, /gone is 404,
    /nohead refuses HEAD (405) but answers GET."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Handler(BaseHTTPRequestHandler):
        def answer(self, head: bool) -> None:
            if self.path == "/old":
                self.send_response(301)
                self.send_header("Location", "/ok")
            elif self.path == "/gone":
                self.send_response(404)
            elif self.path == "/nohead" and head:
                self.send_response(405)
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_HEAD(self) -> None:
            self.answer(head=True)

        def do_GET(self) -> None:
            self.answer(head=False)

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert_file
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_check_links_reports_what_became_of_each_address(tmp_path: Path) -> None:
    """Five addresses put into the knowledge by an override, checked over HTTPS: fine,
    moved (and where to), broken, a server that refuses HEAD (fine by GET), unreachable; the
    exit code says something needs fixing."""
    with https_server(tmp_path) as (port, cert):
        base = f"https://127.0.0.1:{port}"
        down = f"https://127.0.0.1:{closed_port()}/down"
        override = tmp_path / "override.toml"
        override.write_text(
            f'[forms.fb_object_eu_2025]\nurl = "{base}/ok"\n'
            f'[forms.ig_object_eu_2025]\nurl = "{base}/old"\n'
            f'[sources.garante-2025]\nurl = "{base}/gone"\n'
            f'[sources.dpc-2025]\nurl = "{base}/nohead"\n'
            f'[sources.eurlex-gdpr]\nurl = "{down}"\n'
        )
        done = cli(
            "check-links", "--match", "127.0.0.1", override=override, SSL_CERT_FILE=str(cert)
        )
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stderr
    assert f"ok          200  {base}/ok" in lines
    assert f"ok          200  {base}/nohead" in lines
    assert f"moved       200  {base}/old" in lines
    assert f"                 -> {base}/ok" in lines
    assert f"BROKEN      404  {base}/gone" in lines
    assert any(line.startswith(f"UNREACHABLE      {down} (Connect") for line in lines)
    assert lines[-1] == "5 addresses: 2 ok, 1 moved, 1 broken, 1 unreachable"
