"""The websocket: a snapshot on connect, then alarm, vitals, wave and connection frames (docs/api.md)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

__all__ = ["router"]

router = APIRouter()


@router.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    station = websocket.app.state.station
    await websocket.accept()

    async def drain_incoming() -> None:
        while True:  # the client sends nothing we act on; reading notices when it goes away
            await websocket.receive_text()

    reader = asyncio.create_task(drain_incoming())
    sender = asyncio.create_task(station.hub.serve(websocket.send_text, station.snapshot))
    try:
        await asyncio.wait({reader, sender}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, sender):
            task.cancel()
        for task in (reader, sender):
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, Exception):
                await task
        with contextlib.suppress(Exception):
            await websocket.close()
