"""OKX public REST (instruments, book snapshots, trade backfill), paced per endpoint.

OKX limits public endpoints by request count per endpoint and IP (20 per 2 s for
``market/books`` and ``market/history-trades``), with no weights and no Retry-After: a
429 (code ``50011``) is answered by waiting out the 2 s window and trying again. httpx
on Trio does the HTTP, as on Binance.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import httpx
import orjson
import trio

from mdp._exceptions import RestError

__all__ = ["OkxRestClient"]

logging.getLogger("httpx").setLevel(logging.WARNING)
_WINDOW_S = 2.0


class OkxRestClient:
    """``await rest.get(path, params)`` → the ``data`` list of OKX's envelope."""

    def __init__(
        self, base_url: str, *, per_2s: int = 10, attempts: int = 6, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.per_2s = per_2s
        self.attempts = attempts
        self._client = httpx.AsyncClient(timeout=timeout)
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, trio.Lock] = {}
        self.requests = 0
        self.rate_limited = 0
        self.pacing_waits = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _pace(self, path: str) -> None:
        sent = self._sent.setdefault(path, deque())
        now = trio.current_time()
        while sent and sent[0] <= now - _WINDOW_S:
            sent.popleft()
        if len(sent) >= self.per_2s:
            self.pacing_waits += 1
            await trio.sleep(sent[0] + _WINDOW_S - now)
            sent.popleft()
        sent.append(trio.current_time())

    async def get(self, path: str, params: dict[str, Any]) -> list[Any]:
        url = self.base_url + path
        last: RestError | None = None
        lock = self._locks.setdefault(path, trio.Lock())
        for _ in range(self.attempts):
            async with lock:
                await self._pace(path)
                try:
                    response = await self._client.get(url, params=params)
                except httpx.HTTPError as exc:
                    last = RestError(url, 0, None, f"request failed: {exc!r}")
                    await trio.sleep(0.2)
                    continue
                self.requests += 1
                if response.status_code == 429:
                    self.rate_limited += 1
                    last = RestError(url, 429, 50011, "rate limited")
                    await trio.sleep(_WINDOW_S / 4)
                    continue
                try:
                    body = orjson.loads(response.content)
                except orjson.JSONDecodeError:
                    raise RestError(url, response.status_code, None, "not JSON") from None
                code = str(body.get("code", "")) if isinstance(body, dict) else ""
                if response.status_code != 200 or code != "0":
                    msg = str(body.get("msg", "")) if isinstance(body, dict) else ""
                    number = int(code) if code.isdigit() else None
                    raise RestError(url, response.status_code, number, msg)
                data: list[Any] = body.get("data", [])
                return data
        assert last is not None
        raise last
