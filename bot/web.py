"""The bot's HTTP side, for its operator: ``/healthz``, ``/readyz`` and ``/metrics``.

Rules:
- ``/healthz``: the process runs and its event loop answers. ``/readyz``: the database answers
  and Telegram was reached within ``READY_WITHIN`` (a long poll returns at least every 50 s);
  a 503 says which of the two is missing, nothing else.
- ``/metrics``: ``bot.metrics`` in Prometheus' text format -- counts only.
- The server runs inside the bot's own event loop (uvicorn, its signal handling left to the
  bot, its access log off: a request line may carry what the operator does not want logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.storage import Storage

#: Seconds since Telegram last answered after which the bot is not ready.
READY_WITHIN = 120.0
#: Seconds the database may take to answer a readiness check.
DATABASE_TIMEOUT = 2.0

Reached = Callable[[], float | None]


def operator_app(storage: Storage, reached: Reached) -> Starlette:
    """The operator's endpoints. ``reached``: when Telegram last answered (time.monotonic())."""

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> Response:
        try:
            await asyncio.wait_for(storage.schema_version(), DATABASE_TIMEOUT)
        except Exception:  # noqa: BLE001 - any failure means: not ready
            return PlainTextResponse("not ready: the database does not answer\n", 503)
        last = reached()
        if last is None or time.monotonic() - last > READY_WITHIN:
            return PlainTextResponse("not ready: Telegram was not reached recently\n", 503)
        return PlainTextResponse("ready\n")

    async def scrape(_: Request) -> Response:
        body = metrics.render(await storage.outbox_depths())
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", scrape),
        ]
    )


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the bot handles SIGTERM and SIGINT itself
        yield


class HttpServer:
    """uvicorn serving ``app`` on ``host:port`` in this event loop until ``stop``."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="off"
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="http")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # it could not listen (the port is taken): raise why
            await asyncio.sleep(0.01)

    @property
    def port(self) -> int:
        """The port it listens on (the one asked for, or the one given for port 0)."""
        (server,) = self._server.servers
        return int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
