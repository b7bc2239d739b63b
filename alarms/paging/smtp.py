"""SMTP email channel (stdlib ``smtplib`` in a worker thread): the page as a short plain-text email.

The ``Message-ID`` is derived from the page id, so a page re-sent after a restart is recognisable. The
server's acceptance of the message (``250`` after DATA) is the delivery.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from alarms.paging.channel import DeliveryError, OutgoingPage, page_subject, page_text
from alarms.paging.config import SmtpConfig

__all__ = ["SmtpChannel", "build_email"]


def build_email(page: OutgoingPage, config: SmtpConfig) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.to)
    msg["Subject"] = f"[{page.station}] {page_subject(page)}"
    msg["Date"] = formatdate(localtime=False)
    domain = config.sender.split("@", 1)[1]
    msg["Message-ID"] = f"<{page.id}@{domain}>"
    msg["X-WardWatch-Page"] = page.id
    priority = page.request.alarm.get("priority")
    msg["X-Priority"] = {"high": "1", "medium": "2"}.get(str(priority), "3")
    msg.set_content(page_text(page) + "\n")
    return msg


class SmtpChannel:
    def __init__(self, name: str, config: SmtpConfig) -> None:
        self.name = name
        self.config = config
        self._password = os.environ.get(config.password_env, "") if config.password_env else None

    async def send(self, page: OutgoingPage) -> str:
        msg = build_email(page, self.config)
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._send, msg), self.config.timeout_s + 1)
        except TimeoutError as exc:
            raise DeliveryError(f"SMTP timed out after {self.config.timeout_s:g} s") from exc

    def _send(self, msg: EmailMessage) -> str:
        c = self.config
        try:
            if c.ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout_s, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
            with smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if c.username:
                    smtp.login(c.username, self._password or "")
                refused = smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {c.host}:{c.port}: {exc}"[:300]) from exc
        if refused:
            raise DeliveryError(f"SMTP refused recipients: {', '.join(refused)}")
        return f"accepted by {c.host}"

    async def aclose(self) -> None:
        return None
