"""HL7 v2 ORU^R40 over MLLP (IHE PCD ACM, PCD-04): one TCP exchange per page, waiting for the ACK.

The message is built by ``alarms.hl7``; the control id (MSH-10) is ``<page id>.<channel>``, the same on every
retry. An ``AA``/``CA`` acknowledgement for that control id is the delivery; ``AE``/``AR``, a wrong control id,
no answer within ``timeout_s`` or a refused connection are failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from alarms import hl7
from alarms.paging.channel import DeliveryError, OutgoingPage
from alarms.paging.config import MllpConfig

__all__ = ["MllpChannel"]


class MllpChannel:
    def __init__(self, name: str, config: MllpConfig) -> None:
        self.name = name
        self.config = config

    def message(self, page: OutgoingPage, now: float | None = None) -> tuple[str, bytes]:
        c = self.config
        control = f"{page.id}.{self.name}"[:199]
        data = hl7.build_oru_r40(
            page.request.to_json(),
            control_id=control,
            now=time.time() if now is None else now,
            sending_application=c.sending_application,
            sending_facility=c.sending_facility,
            receiving_application=c.receiving_application,
            receiving_facility=c.receiving_facility,
        )
        return control, data

    async def send(self, page: OutgoingPage) -> str:
        control, data = self.message(page)
        try:
            return await asyncio.wait_for(self._exchange(control, data), self.config.timeout_s)
        except TimeoutError as exc:
            raise DeliveryError(f"no HL7 ACK within {self.config.timeout_s:g} s") from exc

    async def _exchange(self, control: str, data: bytes) -> str:
        c = self.config
        try:
            reader, writer = await asyncio.open_connection(c.host, c.port)
        except OSError as exc:
            raise DeliveryError(f"MLLP {c.host}:{c.port}: {exc.strerror or exc}") from exc
        try:
            writer.write(hl7.frame(data))
            await writer.drain()
            decoder = hl7.MllpDecoder()
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    raise DeliveryError("MLLP connection closed before the ACK")
                messages = decoder.feed(chunk)
                if messages:
                    try:
                        hl7.parse_ack(messages[0], control)
                    except hl7.Hl7Error as exc:
                        raise DeliveryError(str(exc)) from exc
                    return "HL7 ACK AA"
        except OSError as exc:
            raise DeliveryError(f"MLLP {c.host}:{c.port}: {exc}") from exc
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def aclose(self) -> None:
        return None
