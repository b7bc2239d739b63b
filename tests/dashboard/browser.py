"""Headless Chromium for the dashboard tests (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

from tests.conftest import skip_or_fail

__all__ = ["CHROMIUM", "ARGS", "chromium_path", "browser_page", "sign_in"]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_path() -> str:
    """The chromium executable; skips the test when missing (fails it in CI)."""
    exe = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if not exe:
        skip_or_fail("chromium is not installed (apt-get install -y chromium)")
    return str(exe)


@contextlib.asynccontextmanager
async def browser_page(url: str, *, width: int = 1600, height: int = 900) -> AsyncIterator[Any]:
    """A page at ``url``; fails the test if the page threw a JavaScript error meanwhile."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install playwright)")
    exe = chromium_path()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=exe, args=ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda d: asyncio.ensure_future(d.dismiss()))
            await page.goto(url)
            yield page
            assert not errors, f"JavaScript errors: {errors}"
        finally:
            await browser.close()


async def sign_in(page: Any, user: str, password: str) -> None:
    await page.get_by_test_id("signin-user").fill(user)
    await page.get_by_test_id("signin-password").fill(password)
    await page.get_by_test_id("signin-submit").click()
    await page.get_by_test_id("user-badge").wait_for(timeout=5000)
