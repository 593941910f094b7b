"""``optout-bot check-links``: is every address the bot gives people still there?

Every http(s) URL in the effective knowledge (the shipped facts with the operator's override
merged in: forms, authorities, sources) is requested -- HEAD, and GET where a server refuses
HEAD -- following redirects, a few at a time. The report says, per address: fine, moved (with
where it ends up, so the fact can be updated), broken (its HTTP status) or unreachable (why).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import httpx
from pydantic import BaseModel

#: Statuses after which a GET is tried: servers that do not answer HEAD properly.
HEAD_REFUSED = {403, 404, 405, 406, 501}
USER_AGENT = "optout-bot check-links (a volunteer-run GDPR objection helper)"

Verdict = Literal["ok", "moved", "broken", "unreachable"]


@dataclass(frozen=True)
class Checked:
    url: str
    verdict: Verdict
    status: int | None = None
    final: str | None = None  # where a redirect ends
    error: str | None = None  # why it could not be reached


def urls_in(knowledge: BaseModel) -> list[str]:
    """Every http(s) URL the knowledge data holds, once each, sorted."""
    return sorted(set(_strings(knowledge.model_dump(mode="json"))))


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith(("https://", "http://")):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


async def check_all(
    urls: Iterable[str], *, per_request: float = 15.0, at_once: int = 8
) -> list[Checked]:
    """Each URL checked, in the order given."""
    limit = asyncio.Semaphore(at_once)
    headers = {"User-Agent": USER_AGENT}
    client = httpx.AsyncClient(follow_redirects=True, timeout=per_request, headers=headers)
    async with client:

        async def one(url: str) -> Checked:
            async with limit:
                return await check(client, url)

        return list(await asyncio.gather(*(one(url) for url in urls)))


async def check(client: httpx.AsyncClient, url: str) -> Checked:
    try:
        response = await client.head(url)
        if response.status_code in HEAD_REFUSED:
            response = await client.get(url)
    except httpx.HTTPError as error:
        return Checked(url, "unreachable", error=type(error).__name__)
    status = response.status_code
    if status >= 400:
        return Checked(url, "broken", status)
    final = str(response.url)
    if response.history and final != url:
        return Checked(url, "moved", status, final=final)
    return Checked(url, "ok", status)


def report(results: list[Checked]) -> str:
    """One line per address, problems first, then a summary line."""
    order = {"unreachable": 0, "broken": 1, "moved": 2, "ok": 3}
    lines = []
    for r in sorted(results, key=lambda r: (order[r.verdict], r.url)):
        if r.verdict == "ok":
            lines.append(f"ok          {r.status}  {r.url}")
        elif r.verdict == "moved":
            lines.append(f"moved       {r.status}  {r.url}\n                 -> {r.final}")
        elif r.verdict == "broken":
            lines.append(f"BROKEN      {r.status}  {r.url}")
        else:
            lines.append(f"UNREACHABLE      {r.url} ({r.error})")
    counts = {v: sum(r.verdict == v for r in results) for v in order}
    lines.append(
        f"{len(results)} addresses: {counts['ok']} ok, {counts['moved']} moved, "
        f"{counts['broken']} broken, {counts['unreachable']} unreachable"
    )
    return "\n".join(lines) + "\n"
