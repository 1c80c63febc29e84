"""Alerts: a failed run, a stopped quality gate and a change of monitor health notify a
webhook (Slack- or Teams-compatible JSON) and/or e-mail over SMTP.

Delivery never fails the caller: each channel is tried `alerts.attempts` times with a short
backoff, and what happened is logged (to the run's log during a run) without secrets: a
webhook is named by its scheme and host only, and the SMTP password (read from
`CARTWHEEL_ALERTS__SMTP_PASSWORD`) is never printed.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from cartwheel.config import AlertSettings, Settings
from cartwheel.files import write_atomically

PASSWORD_ENV = "CARTWHEEL_ALERTS__SMTP_PASSWORD"
#: The monitor's last health, so that only a change alerts (kept in the data folder).
STATE_FILE = "monitor_state.json"

log = logging.getLogger("cartwheel.alerts")

#: What to do about each monitor check that is not ok.
CHECK_ADVICE = {
    "last_execution": "check that the scheduler runs (`cartwheel schedule`) and read the last "
    "runs with `cartwheel status`",
    "data_freshness": "new data has not arrived: check the source exports and the last runs",
    "data_volume_anomalies": "compare the day's orders with the shop: a feed may be partial "
    "or loaded twice",
    "data_quality": "read quality_report.json and the rejected rows (`cartwheel quarantine`)",
    "database_connectivity": "check that the database server (or file) is up and reachable",
}


@dataclass(frozen=True)
class Alert:
    """One notification: what happened, where, and what to do about it."""

    title: str
    severity: str  # critical, warning or resolved
    what: str
    todo: str
    where: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The plain-text form (e-mail body, webhook fallback)."""
        facts = "\n".join(f"{key}: {value}" for key, value in self.where.items())
        return f"{self.title}\n\nWhat: {self.what}\n\n{facts}\n\nWhat to do: {self.todo}\n"


def _where(settings: Settings, **facts: str | None) -> dict[str, str]:
    base = {
        "host": socket.gethostname(),
        "data folder": str(settings.data_dir.resolve()),
        "warehouse": settings.warehouse_location,
    }
    return base | {key: value for key, value in facts.items() if value}


def run_failed_alert(
    settings: Settings,
    *,
    run_id: str,
    status: str,
    error: str,
    step: str | None,
    log_file: Path,
    gate_stopped: bool,
) -> Alert:
    """The alert for a run that did not succeed (failed, stopped by the gate, interrupted)."""
    where = _where(settings, run=run_id, step=step, log=str(log_file))
    if gate_stopped:
        return Alert(
            "cartwheel: the quality gate stopped the run before production",
            "critical",
            error,
            "read quality_report.json and the rejected rows (`cartwheel quarantine --data-dir "
            f"{settings.data_dir}`), fix the source files, then run again; readers keep the "
            "last good warehouse",
            where,
        )
    if status == "interrupted":
        return Alert(
            "cartwheel: a run was interrupted",
            "warning",
            error,
            "nothing is lost: the next `cartwheel run` recovers it; readers keep the last good "
            "warehouse",
            where,
        )
    return Alert(
        f"cartwheel: the run failed{f' at step {step}' if step else ''}",
        "critical",
        error,
        f"read the log {log_file}, fix the cause, then `cartwheel run` again; readers keep "
        "the last good warehouse",
        where,
    )


def health_alert(settings: Settings, previous: str, report: dict[str, Any]) -> Alert:
    """The alert for a change of the monitor's health from `previous` to the report's."""
    health = report["pipeline_health"]
    findings = [f"{a['check']} ({a['severity']}): {a['message']}" for a in report["alerts"]]
    advice = [CHECK_ADVICE[a["check"]] for a in report["alerts"] if a["check"] in CHECK_ADVICE]
    where = _where(settings, **{"health score": str(report["overall_health_score"])})
    if health == "healthy":
        return Alert(
            f"cartwheel health: {previous} -> healthy",
            "resolved",
            "every monitor check passes again",
            "nothing",
            where,
        )
    return Alert(
        f"cartwheel health: {previous} -> {health}",
        "critical" if health == "critical" else "warning",
        "; ".join(findings),
        "; ".join(dict.fromkeys(advice)) or "read monitoring_report.json",
        where,
    )


# Message formats ---------------------------------------------------------------------

SLACK_TEXT_LIMIT = 3000  # characters per block of text
COLOURS = {"critical": "attention", "warning": "warning", "resolved": "good"}


def _short(text: str, limit: int = SLACK_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(alert: Alert) -> dict[str, Any]:
    """Slack incoming-webhook JSON: a `text` fallback and Block Kit blocks."""
    facts = [
        {"type": "mrkdwn", "text": _short(f"*{k}*\n{v}", 2000)} for k, v in alert.where.items()
    ]
    return {
        "text": _short(f"{alert.title}: {alert.what}"),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _short(alert.title, 150)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _short(alert.what)}},
            *(
                {"type": "section", "fields": facts[i : i + 10]}  # Slack allows 10 fields
                for i in range(0, len(facts), 10)
            ),
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _short(f"*What to do:* {alert.todo}")},
            },
        ],
    }


def teams_payload(alert: Alert) -> dict[str, Any]:
    """A Teams message with an Adaptive Card (what Teams' incoming-webhook workflows take)."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": alert.title,
                "weight": "Bolder",
                "size": "Medium",
                "color": COLOURS[alert.severity],
                "wrap": True,
            },
            {"type": "TextBlock", "text": alert.what, "wrap": True},
            {
                "type": "FactSet",
                "facts": [{"title": k, "value": v} for k, v in alert.where.items()],
            },
            {"type": "TextBlock", "text": f"What to do: {alert.todo}", "wrap": True},
        ],
    }
    return {
        "type": "message",
        "text": f"{alert.title}: {alert.what}",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def email_message(alert: Alert, config: AlertSettings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[{alert.severity}] {alert.title}"
    message["From"] = config.smtp_sender
    message["To"] = ", ".join(config.smtp_recipients)
    message.set_content(alert.text())
    return message


# Delivery ---------------------------------------------------------------------------


def _worth_retrying(error: BaseException) -> bool:
    """A client error (bad URL, revoked hook) will not heal within seconds; the rest may."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code == 429
    return isinstance(error, OSError | smtplib.SMTPException)


def retrying(attempts: int, channel: str, secrets: list[str]) -> Retrying:
    """A few tries, 0.5 s, 1 s, 2 s apart; each failed one logged (without `secrets`)."""

    def note_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.info(
            "%s: attempt %d failed (%s), retrying",
            channel,
            state.attempt_number,
            describe(error, secrets) if error else "?",
        )

    return Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.5, max=2),
        retry=retry_if_exception(_worth_retrying),
        before_sleep=note_retry,
        reraise=True,
    )


def post_json(
    url: str, payload: dict[str, Any], timeout: float, headers: dict[str, str] | None = None
) -> None:
    """POST `payload` as JSON (one attempt); raises on a failure or a non-2xx answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "cartwheel"} | (headers or {}),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout):
        pass


def webhook_name(url: str) -> str:
    """A webhook as it may be printed: its path and query are the secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def post_webhook(alert: Alert, config: AlertSettings) -> None:
    """POST the alert's JSON (one attempt)."""
    assert config.webhook_url is not None
    payload = teams_payload(alert) if config.webhook_format == "teams" else slack_payload(alert)
    post_json(config.webhook_url.get_secret_value(), payload, config.timeout_seconds)


def send_email(alert: Alert, config: AlertSettings) -> None:
    """Send the alert over SMTP, STARTTLS unless turned off (one attempt)."""
    assert config.smtp_host is not None
    password = os.environ.get(PASSWORD_ENV)
    message = email_message(alert, config)
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_seconds) as smtp:
        if config.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if password:
            login(smtp, config.smtp_username or config.smtp_sender, password)
        smtp.send_message(message)


def login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in; smtplib encodes credentials as ASCII, so others go as UTF-8 AUTH PLAIN."""
    if user.isascii() and password.isascii():
        smtp.login(user, password)
        return
    smtp.ehlo_or_helo_if_needed()
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()  # RFC 4616
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def describe(error: BaseException, secrets: list[str]) -> str:
    """An error in one line, with every secret replaced by ***."""
    if type(error) is urllib.error.URLError and isinstance(error.reason, BaseException):
        error = error.reason  # "<urlopen error [Errno 111] ...>" says less than the cause
    text = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def deliver(config: AlertSettings, alert: Alert) -> list[str]:
    """Send the alert on every configured channel; one line per channel on what happened.

    Never raises: a dead endpoint is logged as a warning and the caller carries on.
    """
    secrets = [s for s in (os.environ.get(PASSWORD_ENV),) if s]
    channels = []
    if config.webhook_url is not None:
        url = config.webhook_url.get_secret_value()
        secrets.append(url)
        channels.append((f"webhook {webhook_name(url)}", post_webhook))
    if config.smtp_host is not None and config.smtp_recipients:
        target = f"{config.smtp_host}:{config.smtp_port}"
        channels.append((f"e-mail to {len(config.smtp_recipients)} via {target}", send_email))
    outcomes = []
    for name, send in channels:
        try:
            for attempt in retrying(config.attempts, f"alert {name}", secrets):
                with attempt:
                    send(alert, config)
        except Exception as error:  # noqa: BLE001 - an alert must never fail the run
            outcome = f"{name}: not delivered ({describe(error, secrets)})"
            log.warning("alert %r %s", alert.title, outcome)
        else:
            outcome = f"{name}: delivered"
            log.info("alert %r %s", alert.title, outcome)
        outcomes.append(outcome)
    return outcomes


def notify_health_change(settings: Settings, report: dict[str, Any]) -> list[str]:
    """Alert once when the monitor's health differs from the last one recorded.

    The health is kept in `monitor_state.json` in the data folder; no file yet counts as
    healthy, so a first degraded or critical check alerts and a first healthy one does not.
    """
    path = settings.data_dir / STATE_FILE
    try:
        previous = json.loads(path.read_text())["pipeline_health"]
    except (OSError, ValueError, KeyError, TypeError):
        previous = "healthy"
    health = report["pipeline_health"]
    if health == previous and path.exists():
        return []
    state = {"pipeline_health": health, "since": datetime.now(UTC).isoformat(timespec="seconds")}
    write_atomically(path, json.dumps(state) + "\n")
    if health == previous:
        return []
    return deliver(settings.alerts, health_alert(settings, previous, report))
