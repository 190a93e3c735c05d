"""Webhooks: the organization's event feed pushed to a receiver as it happens.

Each event is POSTed as JSON, signed — `Credgraph-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>" under the webhook's secret>` — so the receiver can check it came
from here and refuse a replay whose time is old. A receiver answering 2xx has it; anything
else (or no answer within `TIMEOUT`) is tried again, after a delay that doubles with each
failure (with jitter, so that receivers coming back are not hit all at once), for a day; then
the webhook is paused and the administrators are told. Events go in the feed's order, one at
a time — an event is not sent before the one before it was acknowledged — so a receiver gets
them in order (per subject, and overall), at least once: an acknowledgement lost on the way
makes the event go again, so receivers keep the `Credgraph-Event-Id`s they have handled.

A receiver is https on the public internet; http (or https) on this machine only while the
organization is in development mode. A name resolving to a private or link-local address is
refused when the webhook is made and again at every delivery, at the address connected to
(`resolvers.outbound`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from resolvers import audit, outbound
from resolvers.audit import Action
from resolvers.auth import Caller, require_admin, require_viewer
from resolvers.clock import Clock
from resolvers.errors import Code, DomainError, invalid, not_found, role_required
from resolvers.pages import Cursors, Page
from store import feed, notifications, organizations, users, webhooks
from store.audit import Change
from store.database import Database
from store.errors import StoreError
from store.feed import FeedEvent, FeedKind
from store.ids import new
from store.notifications import NotificationKind, SubjectType
from store.organizations import Organization
from store.webhooks import Delivery, Webhook

log = logging.getLogger("credgraph.webhooks")

MAX_WEBHOOKS = 20  # per organization
MAX_URL = 2_000
TIMEOUT = 10.0  # seconds for a receiver to answer
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)  # the delay stops doubling here
GIVE_UP = timedelta(days=1)  # failing this long pauses the webhook
BATCH = 50  # events sent per webhook per round
AT_ONCE = 4  # webhooks delivering at once in a process

Render = Callable[[FeedEvent], dict[str, Any]]  # an event as receivers read it (graph's)


async def create_webhook(
    db: Database, viewer: Caller | None, *, url: str, kinds: list[FeedKind], now: datetime
) -> Webhook:
    """A webhook from the next event on (the feed has what came before); its secret is in the
    answer, this once."""
    admin = require_admin(viewer)
    org = await organizations.get(db, id=admin.org_id)
    if org is None:
        raise not_found("the organization")
    url = receiver(url, org)
    if await webhooks.count(db, org_id=org.id) >= MAX_WEBHOOKS:
        raise DomainError(Code.TOO_MANY, f"an organization has at most {MAX_WEBHOOKS} webhooks")
    kinds = list(dict.fromkeys(kinds))
    shown = {"url": url, "kinds": [k.value for k in kinds] or None}
    made = audit.event(
        admin, Action.CREATE_WEBHOOK, "Webhook", now=now, changes=audit.created(shown)
    )
    return await webhooks.create(
        db,
        org_id=org.id,
        url=url,
        kinds=kinds,
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        created_by=admin.id,
        position=await feed.last_seq(db, org_id=org.id),
        now=now,
        event=made,
    )


def receiver(url: str, org: Organization) -> str:
    """The URL, if events may be sent there (`INVALID_URL` saying why, if not)."""
    url = url.strip()
    if len(url) > MAX_URL or not outbound.plain(url):
        raise invalid(Code.INVALID_URL, "a receiver URL is http(s)://host[:port]/path", "url")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        raise invalid(Code.INVALID_URL, "a receiver URL is https", "url")
    if outbound.loopback(host):
        if not org.development_mode:
            raise invalid(
                Code.INVALID_URL,
                "this machine is a receiver only in development mode (updateOrganization)",
                "url",
            )
        return url
    if parts.scheme != "https":
        raise invalid(Code.INVALID_URL, "a receiver URL is https", "url")
    if not outbound.public(host):
        raise invalid(Code.INVALID_URL, f"{host} is on a private network", "url")
    return url


async def delete_webhook(
    db: Database, viewer: Caller | None, webhook_id: str, *, now: datetime
) -> Webhook:
    admin = require_admin(viewer)
    made = audit.event(
        admin, Action.DELETE_WEBHOOK, "Webhook", subject_id=webhook_id, now=now,
        changes=(Change("deleted", False, True),),
    )  # fmt: skip
    found = await webhooks.delete(db, org_id=admin.org_id, id=webhook_id, now=now, event=made)
    if found is None:
        raise not_found("the webhook", field="webhook")
    return found


async def resume_webhook(
    db: Database, viewer: Caller | None, webhook_id: str, *, now: datetime
) -> Webhook:
    """Try a paused webhook again, from the event it stopped at."""
    admin = require_admin(viewer)
    found = await webhooks.get(db, org_id=admin.org_id, id=webhook_id)
    if found is None:
        raise not_found("the webhook", field="webhook")
    if found.paused_at is None:
        return found
    made = audit.event(
        admin, Action.RESUME_WEBHOOK, "Webhook", subject_id=webhook_id, now=now,
        changes=(Change("pausedAt", found.paused_at, None),),
    )  # fmt: skip
    resumed = await webhooks.resume(db, webhook=found, event=made)
    return resumed or found


async def listed(db: Database, viewer: Caller | None) -> list[Webhook]:
    admin = require_admin(viewer)
    return await webhooks.listed(db, org_id=admin.org_id)


async def visible(db: Database, viewer: Caller, webhook_id: str) -> Webhook | None:
    """A webhook, for its organization's administrators (its receiver's URL is theirs)."""
    if not viewer.is_admin:
        return None
    return await webhooks.get(db, org_id=viewer.org_id, id=webhook_id)


async def deliveries_page(
    db: Database, viewer: Caller | None, webhook_id: str, *, first: int | None, after: str | None
) -> Page[Delivery]:
    """Every attempt to deliver to a webhook, newest first."""
    caller = require_viewer(viewer)
    if not caller.reads_organization:
        raise role_required("only an administrator or a READ token may see deliveries")
    found = await webhooks.get(db, org_id=caller.org_id, id=webhook_id)
    if found is None:
        raise not_found("the webhook", field="webhook")
    cursors = Cursors("webhookDeliveries", found.id)
    size, last = cursors.keyset(first, after)
    fetched = await webhooks.deliveries(
        db, org_id=found.org_id, webhook_id=found.id, after=last, limit=size + 1
    )
    total = await webhooks.count_deliveries(db, org_id=found.org_id, webhook_id=found.id)
    return Page.of(fetched, size, total, lambda d: cursors.encode(d.id))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


async def dispatch(db: Database, *, now: datetime, render: Render) -> int:
    """One round: every webhook due sends what it has waiting, several at once (a slow
    receiver holds back only its own webhook); how many events were acknowledged."""
    room = asyncio.Semaphore(AT_ONCE)

    async def deliver(webhook: Webhook) -> int:
        async with room:
            return await _deliver(db, webhook, now, render)

    return sum(await asyncio.gather(*(deliver(w) for w in await webhooks.due(db, now=now))))


async def _deliver(db: Database, webhook: Webhook, now: datetime, render: Render) -> int:
    holder = new()
    held = await webhooks.lease(db, webhook=webhook, holder=holder)
    if held is None:
        return 0  # another process delivers for it
    try:
        if held.paused_at is not None or (
            held.next_attempt_at is not None and held.next_attempt_at > now
        ):
            return 0  # another process tried it since this round began: not due after all
        org = await organizations.get(db, id=held.org_id)
        if org is None:
            return 0
        waiting = await feed.page(
            db, org_id=held.org_id, after=held.position, kinds=held.kinds or None, limit=BATCH,
            end=await feed.last_seq(db, org_id=held.org_id),
        )  # fmt: skip
        for done, event in enumerate(waiting):
            if await webhooks.lease(db, webhook=held, holder=holder) is None:
                return done  # held up past the lease: another process has taken over
            attempt = held.attempts + 1
            status, error, took = await _post(held, event, render, attempt, now, org)
            await webhooks.record(
                db,
                delivery=Delivery(
                    new(), held.org_id, held.id, event.id, event.seq or 0, event.kind, attempt,
                    now, status, error, took,
                ),
            )  # fmt: skip
            if status is not None and 200 <= status < 300:
                await webhooks.delivered(db, webhook=held, position=event.seq or 0)
                held = replace(held, attempts=0, failing_since=None)
                continue
            await _failed(db, held, now, status, error)
            return done
        return len(waiting)
    finally:
        await webhooks.release(db, webhook=webhook, holder=holder)


async def _post(
    webhook: Webhook,
    event: FeedEvent,
    render: Render,
    attempt: int,
    now: datetime,
    org: Organization,
) -> tuple[int | None, str | None, int]:
    """The receiver's status (None: no answer), what went wrong, and how long it took."""
    body = json.dumps(render(event), separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "credgraph-webhooks",
        "Credgraph-Event-Id": event.id,
        "Credgraph-Delivery-Attempt": str(attempt),
        "Credgraph-Signature": signature(webhook.secret, int(now.timestamp()), body),
    }
    started = time.monotonic()
    try:
        answer = await asyncio.to_thread(
            outbound.post, webhook.url, body, headers, timeout=TIMEOUT,
            allow_loopback=org.development_mode,
        )  # fmt: skip
    except outbound.Refused as error:
        return None, str(error), round((time.monotonic() - started) * 1000)
    took = round((time.monotonic() - started) * 1000)
    return answer.status, None if answer.status < 300 else f"HTTP {answer.status}", took


async def _failed(
    db: Database, webhook: Webhook, now: datetime, status: int | None, error: str | None
) -> None:
    """Try again later — the delay doubling with each failure, jittered — or, failing for a
    day, pause the webhook and tell the administrators."""
    since = webhook.failing_since or now
    delay = min(FIRST_RETRY * 2**webhook.attempts, LAST_RETRY) * random.uniform(0.75, 1.0)
    paused = None
    if now - since >= GIVE_UP:
        paused = f"no 2xx for a day ({error or f'HTTP {status}'})"
    await webhooks.failed(
        db, webhook=webhook, failing_since=since, next_attempt_at=now + delay, paused=paused,
        now=now,
    )  # fmt: skip
    if paused is not None:
        await notifications.notify(
            db,
            org_id=webhook.org_id,
            user_ids=await users.admin_ids(db, org_id=webhook.org_id),
            kind=NotificationKind.WEBHOOK_PAUSED,
            subject_type=SubjectType.WEBHOOK,
            subject_id=webhook.id,
            now=now,
        )


async def run(db: Database, clock: Clock, *, every: float, render: Render) -> None:
    """The dispatcher: a round now (catching up after downtime), then every `every` seconds."""
    while True:
        try:
            await dispatch(db, now=clock.now(), render=render)
        except StoreError as error:
            log.warning("webhooks: %s", error)
        await asyncio.sleep(every)
