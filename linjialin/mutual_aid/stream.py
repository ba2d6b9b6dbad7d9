"""The live feed (issue 6 §2): server-sent events at /mutual-aid/stream/ (`mutual_aid:stream`).

A logged-in resident's open page (`#aid-feed[data-stream-url]`, static/mutual_aid/live.js) holds an
EventSource on this endpoint. Every FeedEntry (a post appeared, or reached one level further) that reaches
one of the user's households is sent as an event; the page fetches the post's card and puts it on top.

What is sent, decided: **the open page streams every open post the user may see** — the same rule as the
page itself (selectors.visible_posts: the entry's reach includes the household, by entrance, building,
compound or community), needs and offers, whatever the user's subscription. The subscription (opt-in,
how far, categories, quiet hours) decides the *notices* (inbox, SMS, WeChat: services.posts through
notifications); on the page the user is already looking, and a reload would show the same posts. Each
event says whether the post also matches the subscription (`match`), and the page marks those more
strongly. Posts no longer open when the entry is read (withdrawn within the poll interval, hidden) are
not sent. The author also receives their own post (the page skips a card it already shows).

    id: <FeedEntry id>
    event: post
    data: {"post": 12, "kind": "need", "category": "medicine", "reach": 1, "match": true,
           "card": "/mutual-aid/posts/12/card/"}

Reconnects miss nothing: the browser sends the last id it saw (Last-Event-ID); the first connection may
name it too (`?after=<id>`, the page's newest entry); without either, the entries of the last
GRACE_SECONDS are replayed (a post made while the page loaded). Replays are bounded (REPLAY_LIMIT).

How, for 200 listeners on two cores (bench/results/mutual_aid.md): one Hub per server process, a thread
that, while anybody listens, reads the new FeedEntry rows by id every POLL_SECONDS — one query for all
listeners, joined to the post's state and kind — and hands each row to the listeners in its community
whose household it reaches (in memory: a dict by community, a few integer comparisons each). A listener
holds no database connection while it waits: the view reads the user's homes and subscription, closes
its connections, then only waits on its queue. Under the ASGI server (`linjialin web`) the wait is an
asyncio queue on the event loop (no thread per listener); under a WSGI server (runserver, the test live
server) it is a thread blocked on a queue.Queue — the same hub feeds both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from linjialin.places.models import Place

from . import selectors
from .models import FeedEntry, PostState, Reach, Subscription

log = logging.getLogger(__name__)

POLL_SECONDS = 0.4  # how often the hub reads new entries (while anybody listens)
HEARTBEAT_SECONDS = 15  # a comment line when nothing happened: proxies keep the line open, dead peers show
RETRY_MS = 2000  # the browser reconnects this long after a drop
GRACE_SECONDS = 10  # a fresh connection without an id gets the entries of the last seconds
REPLAY_LIMIT = 200  # at most this many missed entries are replayed on a reconnect
BATCH = 500  # entries read per poll
# Ids are taken at insert but transactions commit in any order (PostgreSQL): an entry may become visible
# after a higher id was routed. Each poll therefore reads from the cursor of LOOKBACK_SECONDS ago and skips
# the ids already routed, so a late commit is still sent (at most this late).
LOOKBACK_SECONDS = 5.0

ROW_FIELDS = (
    "id",
    "post_id",
    "reach",
    "entrance_id_at",
    "building_id_at",
    "compound_id_at",
    "community_id_at",
    "category",
    "post__state",
    "post__kind",
    "post__author_id",
)


# --- who is reached --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spot:
    """Where one household of a listener stands: the ids a FeedEntry is compared with."""

    entrance: int
    building: int | None
    compound: int | None
    community: int


def level_reached(row: dict, spot: Spot) -> int | None:
    """The closest level at which the entry reaches the household (1 same entrance … 4 same community), or
    None when the entry's reach does not include it."""
    if spot.community != row["community_id_at"]:
        return None
    if spot.entrance == row["entrance_id_at"]:
        level = Reach.ENTRANCE
    elif row["building_id_at"] is not None and spot.building == row["building_id_at"]:
        level = Reach.BUILDING
    elif row["compound_id_at"] is not None and spot.compound == row["compound_id_at"]:
        level = Reach.COMPOUND
    else:
        level = Reach.COMMUNITY
    return level if level <= row["reach"] else None


def spots_for(user) -> list[Spot]:
    """The user's households as Spots (selectors.homes: current resident grants), with the community's
    place id (FeedEntry stores ids)."""
    homes = selectors.homes(user)
    if not homes:
        return []
    communities = dict(
        Place.objects.filter(path__in={h.community_path for h in homes}).values_list("path", "pk")
    )
    return [
        Spot(h.entrance_id, h.building_id, h.compound_id, communities[h.community_path])
        for h in homes
        if h.community_path in communities
    ]


@dataclass(eq=False)  # compared and hashed by identity: one object per open stream
class Listener:
    """One open stream: who listens, from where, and what the hub hands it."""

    user_id: int
    spots: list[Spot]
    subscribed_reach: int | None = None  # None: not opted in
    categories: tuple[str, ...] = ()
    after: int | None = None  # replay entries after this id (Last-Event-ID) …
    since: object = None  # … or, without an id, entries from this time on
    hub: Hub | None = field(default=None, repr=False)
    closed: bool = False  # the stream ended
    language: str = ""  # the card is rendered in it
    plain: bool = True  # sees the neighbours' card (not a carer: no care highlight to compute)

    def communities(self) -> set[int]:
        return {s.community for s in self.spots}

    def event_for(self, row: dict) -> dict | None:
        """The event this listener gets for an entry, or None."""
        if row["post__state"] != PostState.OPEN:
            return None
        levels = [lv for s in self.spots if (lv := level_reached(row, s)) is not None]
        if not levels:
            return None
        level = min(levels)
        match = (
            self.subscribed_reach is not None
            and level <= self.subscribed_reach
            and (not self.categories or row["category"] in self.categories)
        )
        event = {
            "id": row["id"],
            "post": row["post_id"],
            "kind": row["post__kind"],
            "category": row["category"],
            "reach": row["reach"],
            "match": match,
            "card": card_url(row["post_id"], self.language),
        }
        if self.plain and row["post__author_id"] != self.user_id and self.hub is not None:
            if html := self.hub.card(row["post_id"], self.language):
                event["html"] = html  # the page shows it at once; the author and carers fetch theirs
        return event

    def deliver(self, event: dict) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class ThreadListener(Listener):
    """A listener waited on by a thread (WSGI servers)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queue: queue.Queue = queue.Queue()

    def deliver(self, event: dict) -> None:
        self.queue.put_nowait(event)

    def get(self, timeout: float) -> dict | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


class AsyncListener(Listener):
    """A listener waited on by a coroutine (the ASGI server): the hub's thread hands events to its loop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loop: asyncio.AbstractEventLoop | None = None  # set when the stream starts, on its loop
        self.queue: asyncio.Queue = asyncio.Queue()

    def deliver(self, event: dict) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the stream is gone
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)

    async def get(self, timeout: float) -> dict | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


def render_card(post_id: int, language: str) -> str:
    """The post's card fragment (mutual_aid/_post_card.html, the open page's card) for a neighbour."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from .models import AidCategory, Post, ResponseState

    try:
        post = Post.objects.select_related("entrance").get(pk=post_id, state=PostState.OPEN)
        post.n_responses = post.responses.exclude(state=ResponseState.WITHDRAWN).count()
        post.highlight_care, post.is_mine = False, False
        post.is_medicine = post.category == AidCategory.MEDICINE
        with translation.override(language or None):
            return render_to_string("mutual_aid/_post_card.html", {"post": post}).strip()
    except Exception:  # gone, or the template wants more: the page fetches the card itself
        log.warning("live feed: card %s not rendered", post_id, exc_info=True)
        return ""


_card_prefix: dict[str, str] = {}


def card_url(post_id: int, language: str = "") -> str:
    """The card fragment's URL (mutual_aid:post_card) in the page's language (i18n_patterns: /en/… for
    English), from one reverse per process and language."""
    from django.utils import translation

    if language not in _card_prefix:
        try:
            with translation.override(language or None):
                _card_prefix[language] = reverse("mutual_aid:post_card", args=[987654321])
        except NoReverseMatch:
            return f"/mutual-aid/posts/{post_id}/card/"
    return _card_prefix[language].replace("987654321", str(post_id))


# --- the hub ---------------------------------------------------------------------------------------------
class Hub:
    """Tails FeedEntry by id for every listener of this process (one query per poll) and routes each new
    entry to the listeners it reaches. `tick()` is one poll (tests call it directly); `add()` starts the
    polling thread when the first listener arrives, and the thread ends (closing its database connection)
    when the last one leaves."""

    def __init__(self, poll_seconds: float = POLL_SECONDS, *, autostart: bool = True):
        self.poll_seconds = poll_seconds
        self.autostart = autostart  # tests drive tick() themselves
        self.lock = threading.Lock()
        self.pending: list[Listener] = []  # registered, not yet replayed
        self.by_community: dict[int, set[Listener]] = defaultdict(set)
        self.cursor: int | None = None  # the highest entry id routed
        self.history: deque[tuple[float, int]] = deque()  # (when, cursor): the floor of the lookback
        self.routed: set[int] = set()  # ids routed above the floor
        self.cards: dict[tuple[int, str], str] = {}  # (post, language) → the neighbours' card
        self.thread: threading.Thread | None = None
        self.polls = 0
        self.queries = 0

    # listeners
    def add(self, listener: Listener) -> None:
        listener.hub = self
        with self.lock:
            self.pending.append(listener)
            if self.autostart and self.thread is None:
                self.thread = threading.Thread(target=self._run, name="aid-feed-hub", daemon=True)
                self.thread.start()

    def remove(self, listener: Listener) -> None:
        listener.closed = True
        with self.lock:
            with contextlib.suppress(ValueError):
                self.pending.remove(listener)
            for community in listener.communities():
                group = self.by_community.get(community)
                if group is not None:
                    group.discard(listener)
                    if not group:
                        del self.by_community[community]

    def stop(self, timeout: float = 5.0) -> None:
        """Let every listener go and wait for the polling thread to end (it closes its connection): for
        tests, before their database goes away."""
        with self.lock:
            listeners, thread = self._listeners(), self.thread
        for listener in listeners:
            self.remove(listener)
        if thread is not None:
            thread.join(timeout)

    def listening(self) -> int:
        with self.lock:
            return len(self._listeners())

    def _listeners(self) -> list[Listener]:
        """Everyone registered, each once (a listener may follow several communities); hold the lock."""
        return [*self.pending, *{x for g in self.by_community.values() for x in g}]

    # polling
    def tick(self) -> int:
        """One poll: replay for the new listeners, then route the entries after the cursor. Returns the
        number of entries read."""
        self.polls += 1
        now = time.monotonic()
        if self.cursor is None:
            self.cursor = FeedEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
            self.queries += 1
            self.history.clear()
            self.routed.clear()
        with self.lock:
            pending, self.pending = self.pending, []
        for listener in pending:
            self._replay(listener)
            with self.lock:
                if not listener.closed:  # gone while being replayed
                    for community in listener.communities():
                        self.by_community[community].add(listener)
        self.history.append((now, self.cursor))
        while len(self.history) > 1 and self.history[1][0] <= now - LOOKBACK_SECONDS:
            self.history.popleft()
        floor = self.history[0][1]
        self.routed = {i for i in self.routed if i > floor}
        rows = list(FeedEntry.objects.filter(id__gt=floor).order_by("id").values(*ROW_FIELDS)[:BATCH])
        self.queries += 1
        rows = [r for r in rows if r["id"] not in self.routed]
        self.cards.clear()  # a card is rendered afresh for each poll (its count of answers moves)
        if rows:
            self.cursor = max(self.cursor, rows[-1]["id"])
            self.routed.update(r["id"] for r in rows)
            self.dispatch(rows)
        return len(rows)

    def _replay(self, listener: Listener) -> None:
        entries = FeedEntry.objects.filter(id__lte=self.cursor, community_id_at__in=listener.communities())
        if listener.after is not None:
            entries = entries.filter(id__gt=listener.after)
        else:
            entries = entries.filter(
                at__gte=listener.since or timezone.now() - timedelta(seconds=GRACE_SECONDS)
            )
        rows = list(entries.order_by("-id").values(*ROW_FIELDS)[:REPLAY_LIMIT])
        self.queries += 1
        for row in reversed(rows):
            if (event := listener.event_for(row)) is not None:
                listener.deliver(event)

    def card(self, post_id: int, language: str) -> str:
        """The card as a neighbour sees it (not theirs, no care highlight), rendered once per post and
        language while it is routed (200 listeners would otherwise GET and render it 200 times at once);
        "" when it cannot be rendered (the page then fetches it)."""
        key = (post_id, language)
        if key not in self.cards:
            self.cards[key] = render_card(post_id, language)
            if len(self.cards) > 256:
                self.cards.pop(next(iter(self.cards)))
        return self.cards[key]

    def dispatch(self, rows: list[dict]) -> None:
        with self.lock:
            groups = {c: list(g) for c, g in self.by_community.items()}
        for row in rows:
            for listener in groups.get(row["community_id_at"], ()):
                if (event := listener.event_for(row)) is not None:
                    listener.deliver(event)

    def _run(self) -> None:
        try:
            while True:
                with self.lock:
                    if not self.pending and not self.by_community:
                        self.thread = None
                        self.cursor = None  # read afresh when somebody listens again
                        return
                started = time.monotonic()
                try:
                    self.tick()
                    if self.polls % 100 == 0:
                        for conn in connections.all(initialized_only=True):
                            conn.close_if_unusable_or_obsolete()
                except Exception:  # a database hiccup: log it, drop the connection, poll again
                    log.exception("live feed poll failed")
                    connections.close_all()
                time.sleep(max(0.0, self.poll_seconds - (time.monotonic() - started)))
        finally:
            connections.close_all()


hub = Hub()


# --- the endpoint ----------------------------------------------------------------------------------------
def _last_event_id(request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after") or ""
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def release_connections() -> None:
    """Close this thread's database connections before waiting (never inside a transaction: a test's)."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close()


def _frame(event: dict) -> str:
    data = {k: v for k, v in event.items() if k != "id"}
    return f"id: {event['id']}\nevent: post\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


HELLO = f"retry: {RETRY_MS}\n: connected\n\n"
PING = ": ping\n\n"


def _sync_events(listener: ThreadListener) -> Iterator[str]:
    # the first chunk is pulled after the middleware finished with the response (the session may have
    # been saved): from here on this thread holds no connection while it waits
    release_connections()
    listener.hub.add(listener)
    try:
        yield HELLO
        while True:
            event = listener.get(HEARTBEAT_SECONDS)
            yield PING if event is None else _frame(event)
    finally:
        listener.hub.remove(listener)


async def _async_events(listener: AsyncListener, release: bool = True) -> AsyncIterator[str]:
    if release:
        # the view and the middleware ran on this request's own thread (asgiref's thread-sensitive
        # context, alive until the response ends): close the connections it opened there before waiting
        await sync_to_async(release_connections)()
    listener.loop = asyncio.get_running_loop()
    listener.hub.add(listener)
    try:
        yield HELLO
        while True:
            event = await listener.get(HEARTBEAT_SECONDS)
            yield PING if event is None else _frame(event)
    finally:
        listener.hub.remove(listener)


def make_listener(request, user, *, use_hub: Hub | None = None) -> Listener | None:
    """The listener for this request (None when the user has no household to listen from)."""
    spots = spots_for(user)
    if not spots:
        return None
    from django.conf import settings
    from django.utils import translation

    from linjialin.core.scope import scope_for

    sub = Subscription.objects.filter(user=user).first()
    kwargs = {
        # the page's language (LocaleMiddleware's choice: the cookie set at login, then the browser's)
        "language": translation.get_language_from_request(request, check_path=True) or settings.LANGUAGE_CODE,
        "plain": scope_for(user, "mutual_aid.care").is_empty,
        "user_id": user.pk,
        "spots": spots,
        "subscribed_reach": sub.reach if sub is not None and sub.active else None,
        "categories": tuple(sub.categories or ()) if sub is not None else (),
        "after": _last_event_id(request),
        "since": timezone.now() - timedelta(seconds=GRACE_SECONDS),
        "hub": use_hub or hub,
    }
    if isinstance(request, ASGIRequest):
        return AsyncListener(**kwargs)
    return ThreadListener(**kwargs)


@require_GET
def stream(request):
    """text/event-stream of the new posts reaching the user's households (see the module docstring)."""
    user = request.user
    if not user.is_authenticated:
        return HttpResponse(status=403)
    listener = make_listener(request, user)
    if listener is None:  # nowhere to listen from: 204 tells EventSource not to reconnect
        return HttpResponse(status=204)
    # nothing below touches the database: the generators close this thread's connections on their first
    # step (after the middleware) and wait holding none
    events = _async_events(listener) if isinstance(listener, AsyncListener) else _sync_events(listener)
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


urlpatterns = [path("stream/", stream, name="stream")]


# --- the server's own ASGI endpoint ------------------------------------------------------------------------
# `linjialin web` routes /mutual-aid/stream/ here (web.ASYNC_PATHS), not through Django's handler: that one
# runs the (sync) middleware on a thread of the request's own, kept until the response ends — one idle
# thread per open stream — and opens a database connection per concurrent setup, unbounded (200 browsers
# reconnecting at once after a restart would open 200). Here the setup (session, user, idle timeout, homes,
# subscription) runs on the shared thread pool, at most SETUP_CONCURRENCY at a time per process, closes its
# connection, and the stream then lives on the event loop alone.
SETUP_CONCURRENCY = 4
_setup_gate: dict[int, asyncio.Semaphore] = {}  # one per event loop (a worker has one)


def _setup(request) -> Listener | int:
    """The listener for an ASGI request, or the status to answer (403 not logged in or idle, 204 no home)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user

    from linjialin.accounts.middleware import is_idle
    from linjialin.accounts.two_factor import pending_step

    try:
        engine = import_module(settings.SESSION_ENGINE)
        request.session = engine.SessionStore(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
        user = get_user(request)  # checks the session's auth hash and backend, as the middleware does
        if not user.is_authenticated:
            return 403
        if is_idle(request, time.time()):
            return 403  # idle (accounts.middleware.IdleTimeoutMiddleware logs it out on the next page)
        request.user = user
        if pending_step(request) is not None:
            return 403  # a second factor or a password change still to give (SignInStepsMiddleware)
        return make_listener(request, user) or 204
    finally:
        connections.close_all()


def _headers(content_type: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", content_type),
        (b"cache-control", b"no-store"),
        (b"x-accel-buffering", b"no"),
        (b"x-content-type-options", b"nosniff"),
    ]


async def asgi_app(scope, receive, send) -> None:
    """GET /mutual-aid/stream/ as a bare ASGI app (see above); the same events as the view."""
    import io

    if scope["method"] not in ("GET", "HEAD"):
        await send({"type": "http.response.start", "status": 405, "headers": _headers(b"text/plain")})
        await send({"type": "http.response.body", "body": b""})
        return
    loop = asyncio.get_running_loop()
    gate = _setup_gate.setdefault(id(loop), asyncio.Semaphore(SETUP_CONCURRENCY))
    request = ASGIRequest(scope, io.BytesIO())
    async with gate:
        outcome = await sync_to_async(_setup, thread_sensitive=False)(request)
    if isinstance(outcome, int):
        await send({"type": "http.response.start", "status": outcome, "headers": _headers(b"text/plain")})
        await send({"type": "http.response.body", "body": b""})
        return
    events = _async_events(outcome, release=False)  # an AsyncListener: the request is an ASGIRequest
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": _headers(b"text/event-stream; charset=utf-8"),
        }
    )

    async def pump():
        async for chunk in events:
            await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})

    async def gone():
        while (await receive())["type"] != "http.disconnect":
            pass

    tasks = {asyncio.ensure_future(pump()), asyncio.ensure_future(gone())}
    try:
        _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await events.aclose()
