"""Alerts: a failed run, a stopped quality gate and monitor health changes reach a local
webhook and a local SMTP server; dead endpoints never fail the run; secrets stay unlogged."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from cartwheel.alerts import PASSWORD_ENV, deliver, health_alert, notify_health_change
from cartwheel.config import AlertSettings, Settings
from cartwheel.generate import generate
from cartwheel.orchestration import Pipeline, PipelineError

SECRET_PATH = "/services/T000/B000/s3cr3t-hook-token"
PASSWORD = "p@ss-O'Donnell-张伟"


class Webhook:
    """A local HTTP endpoint that records every POST and answers with `statuses` in turn."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.posts: list[dict] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        statuses = list(statuses or [])
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.append(json.loads(body))
                hook.paths.append(self.path)
                hook.headers.append(dict(self.headers))
                self.send_response(statuses.pop(0) if statuses else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{SECRET_PATH}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


class Mailbox:
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append(envelope)
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list = []
        self.envelopes: list = []
        self.logins: list[tuple[str, str]] = []

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        login = (auth_data.login.decode(), auth_data.password.decode())
        self.logins.append(login)
        return AuthResult(success=login[1] == PASSWORD)


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("alerts") / "shop"
    generate(folder, scale=0.05, seed=3, defect_rate=0.05)
    return folder


def log_text(data_dir: Path) -> str:
    return "\n".join(p.read_text() for p in (data_dir / "logs").glob("*.jsonl"))


def test_failed_run_posts_one_slack_message_naming_step_and_remedy(
    tmp_path: Path, webhook: Webhook
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        input_dir=tmp_path / "no-such-export",
        alerts=AlertSettings(webhook_url=webhook.url),
    )
    with pytest.raises(PipelineError, match="input folder not found"):
        Pipeline(settings).run()
    assert len(webhook.posts) == 1
    assert webhook.paths == [SECRET_PATH]
    payload = webhook.posts[0]
    assert payload["text"].startswith("cartwheel: the run failed at step ingest: ")
    assert "no-such-export: input folder not found" in payload["text"]
    blocks = json.dumps(payload["blocks"])
    assert "What to do:" in blocks and "cartwheel run" in blocks
    assert str((tmp_path / "data").resolve()) in blocks
    log = log_text(tmp_path / "data")
    assert "delivered" in log
    assert SECRET_PATH not in log  # the hook's path is its secret


def test_gate_stop_sends_teams_card_and_mail_over_starttls_with_env_password(
    tmp_path: Path, shop: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A self-signed certificate for 127.0.0.1, trusted by the client through SSL_CERT_FILE.
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    mailbox = Mailbox()
    port = free_port()
    smtp = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=mailbox.authenticate,
    )
    smtp.start()
    try:
        settings = Settings(
            data_dir=tmp_path / "data",
            input_dir=shop,
            quality_min_score=99.9,
            alerts=AlertSettings(
                webhook_url=webhook.url,
                webhook_format="teams",
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_username="ops",
                smtp_sender="cartwheel@shop.example",
                smtp_recipients=["siobhan.odonnell@shop.example", "jose.maria@shop.example"],
            ),
        )
        with pytest.raises(PipelineError, match="quality gate stopped the run"):
            Pipeline(settings).run()
    finally:
        smtp.stop()
    assert len(webhook.posts) == 1
    card = webhook.posts[0]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    body = card["content"]["body"]
    assert body[0]["text"] == "cartwheel: the quality gate stopped the run before production"
    assert "cartwheel quarantine" in body[3]["text"]
    facts = {fact["title"]: fact["value"] for fact in body[2]["facts"]}
    assert facts["step"] == "quality"
    assert mailbox.logins == [("ops", PASSWORD)]
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert (
        mail["Subject"].strip()
        == "[critical] cartwheel: the quality gate stopped the run before production"
    )
    assert mailbox.envelopes[0].rcpt_tos == [
        "siobhan.odonnell@shop.example",
        "jose.maria@shop.example",
    ]
    score = json.loads((tmp_path / "data" / "quality_report.json").read_text())
    reason = f"quality score {score['overall_quality_score']:.2f} is below the minimum 99.90"
    assert reason in mail.get_content()
    log = log_text(tmp_path / "data")
    assert log.count(": delivered") == 2
    assert PASSWORD not in log and SECRET_PATH not in log


def test_dead_endpoints_are_retried_briefly_logged_and_never_fail_the_run(
    tmp_path: Path, shop: Path
) -> None:
    dead = free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        input_dir=shop,
        quality_min_score=99.9,
        alerts=AlertSettings(
            webhook_url=f"http://127.0.0.1:{dead}{SECRET_PATH}",
            smtp_host="127.0.0.1",
            smtp_port=dead,
            smtp_recipients=["ops@shop.example"],
            attempts=2,
        ),
    )
    began = time.perf_counter()
    # The run's own error, not the alert's, is what the caller gets.
    with pytest.raises(PipelineError, match="quality gate stopped the run"):
        Pipeline(settings).run()
    assert time.perf_counter() - began < 20
    log = log_text(tmp_path / "data")
    assert log.count("not delivered (ConnectionRefusedError") == 2
    assert log.count("attempt 1 failed (ConnectionRefusedError") == 2  # each tried twice
    assert "attempt 2 failed" not in log
    assert SECRET_PATH not in log
    # The run is recorded as failed by the gate as usual.
    report = json.loads((tmp_path / "data" / "pipeline_execution_report.json").read_text())
    assert report["status"] == "failed"


def deliver_to(statuses: list[int], alert) -> tuple[int, list[str]]:  # noqa: ANN001
    """Deliver to a local hook answering `statuses` first: (POSTs received, outcomes)."""
    hook = Webhook(statuses)
    try:
        outcomes = deliver(AlertSettings(webhook_url=hook.url, attempts=3), alert)
    finally:
        hook.close()
    port = f":{hook.server.server_port}"
    return len(hook.posts), [line.replace(port, "") for line in outcomes]


def test_server_errors_are_retried_until_delivered_client_errors_are_not() -> None:
    settings = Settings(data_dir=Path("data"))
    alert = health_alert(
        settings,
        "healthy",
        {"pipeline_health": "healthy", "alerts": [], "overall_health_score": 100},
    )
    delivered, revoked = (deliver_to(statuses, alert) for statuses in ([500, 503], [404, 404]))
    assert delivered[0] == 3  # two server errors retried, then delivered
    assert delivered[1] == ["webhook http://127.0.0.1: delivered"]
    assert revoked[0] == 1  # a client error is not retried
    outcomes = revoked[1]
    assert outcomes[0].endswith("not delivered (HTTPError: HTTP Error 404: Not Found)")


def report_of(health: str, *checks: tuple[str, str, str]) -> dict:
    return {
        "pipeline_health": health,
        "overall_health_score": 100 - 15 * len(checks),
        "alerts": [{"check": c, "severity": s, "message": m} for c, s, m in checks],
    }


def test_one_alert_per_monitor_state_change_and_one_on_recovery(
    tmp_path: Path, webhook: Webhook
) -> None:
    settings = Settings(data_dir=tmp_path, alerts=AlertSettings(webhook_url=webhook.url))
    stale = ("data_freshness", "warning", "stale layers (limit 24 h): staging 30.0 h")
    down = ("database_connectivity", "critical", "database unreachable: no such file")
    sequence = [
        report_of("healthy"),  # first check ever, healthy: nothing to say
        report_of("degraded", stale),  # -> alert
        report_of("degraded", stale),  # same state: no alert
        report_of("degraded", stale, ("data_quality", "warning", "quality score 91 below 95")),
        report_of("critical", stale, down),  # -> alert
        report_of("healthy"),  # -> recovery alert
        report_of("healthy"),
    ]
    for report in sequence:
        notify_health_change(settings, report)
    titles = [post["blocks"][0]["text"]["text"] for post in webhook.posts]
    assert titles == [
        "cartwheel health: healthy -> degraded",
        "cartwheel health: degraded -> critical",
        "cartwheel health: critical -> healthy",
    ]
    critical = json.dumps(webhook.posts[1])
    assert "database unreachable: no such file" in critical
    assert "check that the database server (or file) is up and reachable" in critical
    state = json.loads((tmp_path / "monitor_state.json").read_text())
    assert state["pipeline_health"] == "healthy"


def test_monitor_command_alerts_on_a_folder_that_never_ran(
    tmp_path: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cartwheel.cli import app

    monkeypatch.setenv("CARTWHEEL_ALERTS__WEBHOOK_URL", webhook.url)
    first = CliRunner().invoke(app, ["monitor", "--data-dir", str(tmp_path)])
    second = CliRunner().invoke(app, ["monitor", "--data-dir", str(tmp_path)])
    assert (first.exit_code, second.exit_code) == (2, 2)
    assert len(webhook.posts) == 1
    assert "alert webhook http://127.0.0.1" in first.output
    assert SECRET_PATH not in first.output


def test_alert_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTWHEEL_ALERTS__WEBHOOK_URL", "https://hooks.example.com/x/y")
    monkeypatch.setenv("CARTWHEEL_ALERTS__SMTP_RECIPIENTS", "a@shop.example, b@shop.example")
    monkeypatch.setenv("CARTWHEEL_ALERTS__SMTP_PORT", "2525")
    alerts = Settings().alerts
    assert alerts.webhook_url is not None
    assert alerts.webhook_url.get_secret_value() == "https://hooks.example.com/x/y"
    assert "hooks.example.com" not in repr(alerts)
    assert alerts.smtp_recipients == ["a@shop.example", "b@shop.example"]
    assert alerts.smtp_port == 2525
    monkeypatch.setenv("CARTWHEEL_ALERTS__SMTP_RECIPIENTS", '["van.der.berg@shop.example"]')
    assert Settings().alerts.smtp_recipients == ["van.der.berg@shop.example"]
    monkeypatch.setenv("CARTWHEEL_ALERTS__WEBHOOK_URL", "file:///etc/passwd")
    with pytest.raises(ValueError, match="must be an http"):
        Settings()
