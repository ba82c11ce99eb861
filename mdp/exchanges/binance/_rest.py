"""Binance REST with one request-weight budget per market, shared by snapshots, backfill
and exchangeInfo.

httpx.AsyncClient runs on Trio (through anyio), keeps connections alive and does TLS, so
no HTTP code is written here. The budget follows the exchange's own count: every answer's
``X-MBX-USED-WEIGHT-1M`` header says how much of the minute's weight is used, and a
request that would pass ``limit × headroom`` waits for the next minute instead of being
sent. A 429 or 418 is honoured: nothing is sent to that market until its ``Retry-After``
has passed, then the request is tried again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import orjson
import trio

from mdp._exceptions import RestError
from mdp.exchanges.binance import _metrics as metrics

__all__ = ["RestClient"]

# httpx logs every request at INFO; a backfill makes many. Our own log says what failed.
logging.getLogger("httpx").setLevel(logging.WARNING)


class RestClient:
    """``await rest.get(path, params, weight)`` → the decoded JSON body."""

    def __init__(
        self,
        base_url: str,
        market: str,
        *,
        weight_limit: int = 6000,
        window_s: float = 60.0,
        headroom: float = 0.8,
        attempts: int = 6,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.market = market
        self.weight_limit = weight_limit
        self.window_s = window_s  # Binance counts per calendar minute
        self.headroom = headroom
        self.attempts = attempts
        self.used = 0
        self._minute = int(time.time() // window_s)
        self._blocked_until = 0.0  # trio clock
        self._lock = trio.Lock()
        self._client = httpx.AsyncClient(timeout=timeout)
        self.requests = 0
        self.rate_limited = 0
        self.budget_waits = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, path: str, params: dict[str, Any], weight: int) -> Any:
        url = self.base_url + path
        last: RestError | None = None
        for _ in range(self.attempts):
            async with self._lock:  # one request at a time per market: the budget is exact
                await self._wait_for_budget(weight)
                try:
                    response = await self._client.get(url, params=params)
                except httpx.HTTPError as exc:
                    last = RestError(url, 0, None, f"request failed: {exc!r}")
                    await trio.sleep(0.2)
                    continue
                self.requests += 1
                self._note_weight(response, weight)
                status = response.status_code
                if status in (429, 418):
                    self.rate_limited += 1
                    metrics.REST_LIMITED.labels(self.market, str(status)).inc()
                    retry = float(response.headers.get("retry-after", "1") or 1)
                    self._blocked_until = trio.current_time() + retry
                    last = RestError(url, status, None, f"rate limited, retry after {retry:g} s")
                    continue
                body = orjson.loads(response.content)
                if status != 200:
                    code = body.get("code") if isinstance(body, dict) else None
                    msg = body.get("msg", "") if isinstance(body, dict) else ""
                    raise RestError(url, status, code, str(msg))
                return body
        assert last is not None
        raise last

    async def _wait_for_budget(self, weight: int) -> None:
        now = trio.current_time()
        if now < self._blocked_until:
            await trio.sleep(self._blocked_until - now)
        window = self.window_s
        minute = int(time.time() // window)
        if minute != self._minute:
            self._minute, self.used = minute, 0
        if self.used + weight > self.weight_limit * self.headroom:
            self.budget_waits += 1
            await trio.sleep(max(0.0, (minute + 1) * window - time.time()))
            self._minute, self.used = int(time.time() // window), 0

    def _note_weight(self, response: httpx.Response, weight: int) -> None:
        header = response.headers.get("x-mbx-used-weight-1m")
        if header is not None and header.isdigit():
            self.used = int(header)
        else:
            self.used += weight
        metrics.REST_WEIGHT.labels(self.market).set(self.used)
