"""The websocket: a snapshot on connect, then alarm, vitals, wave and connection frames (docs/api.md)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect

from dashboard.security import actor_of

__all__ = ["router"]

router = APIRouter()


@router.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    station = websocket.app.state.station
    if not station.settings.open_viewing and not await _may_view(websocket):
        await websocket.close(code=4401, reason="sign in to view the station")  # refused before accept: HTTP 403
        return
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


async def _may_view(websocket: WebSocket) -> bool:
    try:
        return await actor_of(websocket) is not None
    except HTTPException:
        return False
