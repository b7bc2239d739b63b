"""Builds the channels named in a paging config."""

from __future__ import annotations

from alarms.paging.channel import Channel
from alarms.paging.config import MllpConfig, MqttConfig, PagingConfig, SmtpConfig, WebhookConfig

__all__ = ["build_channels"]


def build_channels(config: PagingConfig, *, default_broker: str | None = None) -> dict[str, Channel]:
    from alarms.paging.mllp import MllpChannel
    from alarms.paging.mqtt import MqttChannel
    from alarms.paging.smtp import SmtpChannel
    from alarms.paging.webhook import WebhookChannel

    channels: dict[str, Channel] = {}
    for name, c in config.channels.items():
        if isinstance(c, WebhookConfig):
            channels[name] = WebhookChannel(name, c)
        elif isinstance(c, SmtpConfig):
            channels[name] = SmtpChannel(name, c)
        elif isinstance(c, MqttConfig):
            channels[name] = MqttChannel(name, c, default_broker=default_broker)
        elif isinstance(c, MllpConfig):
            channels[name] = MllpChannel(name, c)
    return channels
