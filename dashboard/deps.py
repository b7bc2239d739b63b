"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

if TYPE_CHECKING:
    from monitor.service import Station

__all__ = ["get_station", "StationDep"]


def get_station(request: Request) -> Station:
    return request.app.state.station  # type: ignore[no-any-return]


StationDep = Annotated["Station", Depends(get_station)]
