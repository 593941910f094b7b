"""The bot's HTTP side: Telegram's webhook, and for its operator ``/healthz``, ``/readyz`` and
``/metrics``.

Rules:
- The webhook (``OPTOUT_WEBHOOK_URL``'s path) takes a post only with Telegram's secret token in
  ``X-Telegram-Bot-Api-Secret-Token``: missing 401, wrong 403, logged without the token. A
  good post goes through the same ``Ingress.accept`` as a polled batch and is answered 200
  only once its step is committed; a failure answers 500, so Telegram sends it again, and the
  inbox drops an update already applied (by update id).
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
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

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

#: The header Telegram sends the webhook's secret token in.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Reached = Callable[[], float | None]
Accept = Callable[[Sequence[dict[str, Any]]], Awaitable[int | None]]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Webhook:
    path: str  # where Telegram posts
    secret: str  # the secret token given to setWebhook
    accept: Accept  # Ingress.accept: handles and commits, then returns
    seen: Callable[[], None]  # Telegram reached us (readiness)


def operator_app(storage: Storage, reached: Reached, webhook: Webhook | None = None) -> Starlette:
    """The operator's endpoints, and Telegram's webhook where one is set. ``reached``: when
    Telegram last answered (time.monotonic())."""

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

    routes = [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", scrape)]
    if webhook is not None:
        routes.append(Route(webhook.path, _receiver(webhook), methods=["POST"]))
    return Starlette(routes=routes)


def _receiver(webhook: Webhook) -> Callable[[Request], Awaitable[Response]]:
    expected = webhook.secret.encode()

    async def receive(request: Request) -> Response:
        token = request.headers.get(SECRET_HEADER)
        if token is None:
            log.warning("webhook: a post without the secret token was refused")
            return Response(status_code=401)
        if not hmac.compare_digest(token.encode(), expected):
            log.warning("webhook: a post with a wrong secret token was refused")
            return Response(status_code=403)
        try:
            raw = await request.json()
        except ValueError:
            return Response(status_code=400)
        if not isinstance(raw, dict):
            return Response(status_code=400)
        webhook.seen()
        await webhook.accept([raw])  # committed when it returns (a failure answers 500)
        return Response(status_code=200)

    return receive


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
