"""The live feed (stream.py): who receives which FeedEntry, the subscription's `match`, posts no longer open,
Last-Event-ID and the replay of a fresh connection, the endpoint under WSGI and ASGI, and that a waiting
stream holds no database connection."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from linjialin.mutual_aid import stream
from linjialin.mutual_aid.models import AidCategory, FeedEntry, Kind, Post, PostState, Reach, Subscription
from linjialin.testing.plugin import make_user

pytestmark = pytest.mark.django_db


# --- fixtures: posts and entries written directly (the hub only reads) -------------------------------------
def _author():
    from linjialin.accounts.models import User

    return User.objects.filter(mobile="13700004900").first() or make_user("13700004900", "作者")


def _post(
    tree, household, *, kind=Kind.NEED, category=AidCategory.ERRANDS, state=PostState.OPEN, author=None
):
    entrance = household.parent
    now = timezone.now()
    return Post.objects.create(
        kind=kind,
        category=category,
        text="帮忙买点面包",
        author=author or _author(),
        household=household,
        path=household.path,
        entrance=entrance,
        building=entrance.building,
        compound=entrance.compound,
        community=household.parent.parent.parent,
        state=state,
        expires_at=now + timedelta(hours=48),
        created_at=now,
    )


def _entry(post, reach=Reach.ENTRANCE, at=None) -> FeedEntry:
    return FeedEntry.objects.create(
        post=post,
        reach=reach,
        entrance_id_at=post.entrance_id,
        building_id_at=post.building_id,
        compound_id_at=post.compound_id,
        community_id_at=post.community_id,
        category=post.category,
        at=at or timezone.now(),
    )


def _resident(mobile, name, household):
    return make_user(mobile, name, "resident", household)


class Box(stream.Listener):
    """A listener that keeps what it is handed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.got: list[dict] = []

    def deliver(self, event):
        self.got.append(event)


def _listen(hub, user, **kwargs) -> Box:
    box = Box(user_id=user.pk, spots=stream.spots_for(user), **kwargs)
    hub.add(box)
    return box


@pytest.fixture
def people(tree):
    return {
        "a2": _resident("13700004001", "楼门A二楼", tree.household_a2),  # same entrance as A1
        "b1": _resident("13700004002", "楼门B", tree.household_b1),  # same building, other entrance
        "x1": _resident("13700004003", "社区二", tree.household_x1),  # another community
        "staff": make_user("13700004004", "网格员", "grid_worker", tree.grid_1),  # no household
    }


@pytest.fixture
def hub():
    return stream.Hub(autostart=False)


# --- routing ---------------------------------------------------------------------------------------------
def test_spots_are_the_users_households(tree, people):
    (spot,) = stream.spots_for(people["b1"])
    assert spot == stream.Spot(
        tree.entrance_b.pk, tree.building_1.pk, tree.compound_1.pk, tree.community_1.pk
    )
    assert stream.spots_for(people["staff"]) == []


def test_entry_reaches_by_level(tree, people, hub):
    hub.tick()  # the cursor starts at the newest entry
    a2, b1, x1 = (_listen(hub, people[k]) for k in ("a2", "b1", "x1"))
    post = _post(tree, tree.household_a1)
    first = _entry(post, Reach.ENTRANCE)
    assert hub.tick() == 1
    assert [e["post"] for e in a2.got] == [post.pk]
    assert b1.got == [] and x1.got == []
    event = a2.got[0]
    assert event["id"] == first.pk and event["kind"] == "need" and event["reach"] == Reach.ENTRANCE
    assert event["card"] == f"/mutual-aid/posts/{post.pk}/card/"

    widened = _entry(post, Reach.BUILDING)  # nobody answered: the post reaches the building
    hub.tick()
    assert [e["id"] for e in b1.got] == [widened.pk]
    assert [e["id"] for e in a2.got] == [first.pk, widened.pk]  # the page skips a card it shows
    _entry(post, Reach.COMMUNITY)
    hub.tick()
    assert x1.got == []  # another community never


def test_level_reached_without_building_or_compound(tree):
    row = {"reach": Reach.COMPOUND, "entrance_id_at": 1, "building_id_at": None, "compound_id_at": None}
    row["community_id_at"] = 9
    assert stream.level_reached(row, stream.Spot(1, None, None, 9)) == Reach.ENTRANCE
    assert stream.level_reached(row, stream.Spot(2, None, None, 9)) is None  # no compound: not reached
    assert stream.level_reached({**row, "reach": Reach.COMMUNITY}, stream.Spot(2, 5, 6, 9)) == Reach.COMMUNITY
    assert stream.level_reached({**row, "reach": Reach.COMMUNITY}, stream.Spot(1, 5, 6, 8)) is None


def test_posts_no_longer_open_are_not_sent(tree, people, hub):
    hub.tick()
    a2 = _listen(hub, people["a2"])
    for state in (PostState.WITHDRAWN, PostState.HIDDEN, PostState.MATCHED):
        _entry(_post(tree, tree.household_a1, state=state))
    offer = _post(tree, tree.household_a1, kind=Kind.OFFER)
    _entry(offer)
    assert hub.tick() == 4
    assert [(e["post"], e["kind"]) for e in a2.got] == [(offer.pk, "offer")]  # offers stream too


def test_match_follows_the_subscription(tree, people, hub):
    hub.tick()
    b1 = people["b1"]
    Subscription.objects.create(user=b1, active=True, reach=Reach.BUILDING, categories=["medicine"])
    sub = b1.aid_subscription
    box = _listen(hub, b1, subscribed_reach=sub.reach, categories=tuple(sub.categories))
    far = _listen(hub, people["a2"])  # not opted in: still sees the post on the page, never a match
    medicine = _post(tree, tree.household_a1, category=AidCategory.MEDICINE)
    errands = _post(tree, tree.household_a1)
    _entry(medicine, Reach.BUILDING)
    _entry(errands, Reach.BUILDING)
    hub.tick()
    assert [(e["post"], e["match"]) for e in box.got] == [(medicine.pk, True), (errands.pk, False)]
    assert [e["match"] for e in far.got] == [False, False]


def test_one_query_per_poll_for_all_listeners(tree, people, hub):
    hub.tick()
    boxes = [_listen(hub, people[k]) for k in ("a2", "b1", "x1")]
    hub.tick()  # replays for the new listeners
    with CaptureQueriesContext(connection) as queries:
        assert hub.tick() == 0
    assert len(queries) == 1  # nothing new: one query, whatever the number of listeners
    for _i in range(5):
        _entry(_post(tree, tree.household_a1), Reach.COMMUNITY)
    with CaptureQueriesContext(connection) as queries:
        assert hub.tick() == 5
    assert len(queries) == 1 + 5 * 2  # the entries, and each card rendered once (post, answers) for both
    assert [len(b.got) for b in boxes] == [5, 5, 0]


def test_neighbours_get_the_card_with_the_event_the_author_and_carers_fetch(tree, people, hub, resident_a):
    hub.tick()
    neighbour = _listen(hub, people["a2"], language="en")
    author = _listen(hub, resident_a, language="en")
    leader = make_user("13700004005", "楼门长", "entrance_leader", tree.entrance_a)
    carer = Box(user_id=leader.pk, spots=neighbour.spots, plain=False)  # a 楼门长 living in the entrance
    hub.add(carer)
    hub.tick()
    post = _post(tree, tree.household_a1, author=resident_a)
    _entry(post)
    hub.tick()
    (event,) = neighbour.got
    assert event["html"].startswith("<article") and f'id="post-{post.pk}"' in event["html"]
    assert "帮忙买点面包" in event["html"] and "My post" not in event["html"]
    assert "html" not in author.got[0]  # the author's card says "my post": fetched
    assert "html" not in carer.got[0]  # the care highlight is theirs to see: fetched


def test_removed_listener_gets_nothing(tree, people, hub):
    hub.tick()
    box = _listen(hub, people["a2"])
    hub.tick()
    hub.remove(box)
    assert hub.listening() == 0
    _entry(_post(tree, tree.household_a1))
    hub.tick()
    assert box.got == []


def test_an_entry_committed_after_a_higher_id_is_still_sent(tree, people, hub):
    """PostgreSQL may commit a lower id after a higher one was routed: the lookback still sends it, once."""
    hub.tick()
    box = _listen(hub, people["a2"])
    hub.tick()
    late = _entry(_post(tree, tree.household_a1))
    early = _entry(_post(tree, tree.household_a1))
    row = {f.attname: getattr(late, f.attname) for f in FeedEntry._meta.concrete_fields}
    late.delete()  # not visible yet: its transaction has not committed
    hub.tick()
    assert [e["id"] for e in box.got] == [early.pk]
    FeedEntry.objects.create(**row)  # now it commits
    hub.tick()
    hub.tick()
    assert [e["id"] for e in box.got] == [early.pk, row["id"]]


# --- reconnects ------------------------------------------------------------------------------------------
def test_last_event_id_replays_what_was_missed(tree, people, hub):
    post = _post(tree, tree.household_a1)
    seen = _entry(post, Reach.ENTRANCE, at=timezone.now() - timedelta(hours=1))
    missed = [_entry(post, Reach.BUILDING), _entry(_post(tree, tree.household_a2), Reach.ENTRANCE)]
    _entry(_post(tree, tree.household_x1), Reach.COMMUNITY)  # elsewhere
    hub.tick()  # cursor past all of them
    box = _listen(hub, people["a2"], after=seen.pk)
    hub.tick()
    assert [e["id"] for e in box.got] == [m.pk for m in missed]
    newer = _entry(post, Reach.COMMUNITY)
    hub.tick()
    assert [e["id"] for e in box.got] == [*(m.pk for m in missed), newer.pk]  # no gap, no repeat


def test_fresh_connection_replays_only_the_last_seconds(tree, people, hub):
    old = _entry(_post(tree, tree.household_a1), at=timezone.now() - timedelta(minutes=5))
    recent = _entry(_post(tree, tree.household_a1))
    hub.tick()
    box = _listen(hub, people["a2"], since=timezone.now() - timedelta(seconds=stream.GRACE_SECONDS))
    hub.tick()
    assert [e["id"] for e in box.got] == [recent.pk]
    assert old.pk not in [e["id"] for e in box.got]


# --- the endpoint ----------------------------------------------------------------------------------------
@pytest.fixture
def test_hub(monkeypatch):
    h = stream.Hub(autostart=False)
    monkeypatch.setattr(stream, "hub", h)
    return h


def test_anonymous_403_and_no_household_204(client, tree, people, test_hub):
    url = reverse("mutual_aid:stream")
    assert client.get(url).status_code == 403
    client.force_login(people["staff"])
    assert client.get(url).status_code == 204
    assert client.post(url).status_code == 405


def _chunks(response):
    it = iter(response.streaming_content)
    return lambda: next(it).decode()


def test_wsgi_stream_sends_events_with_ids(client, tree, people, test_hub):
    client.force_login(people["a2"])
    test_hub.tick()
    response = client.get(reverse("mutual_aid:stream"), HTTP_LAST_EVENT_ID="0")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    read = _chunks(response)
    assert read().startswith(f"retry: {stream.RETRY_MS}\n")
    (listener,) = test_hub.pending
    assert listener.after == 0
    post = _post(tree, tree.household_a1)
    entry = _entry(post)
    test_hub.tick()
    frame = read()
    lines = frame.splitlines()
    assert lines[0] == f"id: {entry.pk}" and lines[1] == "event: post"
    assert json.loads(lines[2].removeprefix("data: "))["post"] == post.pk
    response.close()
    assert test_hub.listening() == 0


@pytest.mark.django_db(transaction=True)
def test_waiting_stream_holds_no_database_connection(client, tree, people, test_hub):
    client.force_login(people["a2"])
    response = client.get(reverse("mutual_aid:stream"), HTTP_LAST_EVENT_ID="0")
    read = _chunks(response)
    read()
    assert connection.connection is None  # closed before the first byte
    (listener,) = test_hub.pending
    row = {
        "id": 1,
        "post_id": 7,
        "reach": Reach.COMMUNITY,
        "entrance_id_at": tree.entrance_x.pk,
        "building_id_at": None,
        "compound_id_at": None,
        "community_id_at": tree.community_1.pk,
        "category": "other",
        "post__state": PostState.OPEN,
        "post__kind": Kind.NEED,
        "post__author_id": 0,
    }
    listener.plain = False  # the event made here, in the test's thread, without the card (the hub's job)
    listener.deliver(listener.event_for(row))
    assert '"post":7' in read()
    assert connection.connection is None  # waiting and sending opened nothing
    response.close()


@pytest.mark.django_db(transaction=True)
def test_asgi_stream_waits_on_the_event_loop(client, tree, people, test_hub):
    """Through the server's own ASGI app (web.application): the stream goes to stream.asgi_app, waits on
    the loop, gets the hub's event, and leaves the hub when the browser goes away; an ordinary page goes to
    the WSGI handler; without a session, or idle too long, 403."""
    import asyncio

    from linjialin.core.management.commands.web import application

    app = application(threads=2)
    client.force_login(people["b1"])
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    def scope(path, cookie=cookie):
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"cookie", cookie)],
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
        }

    async def call(path, gone: asyncio.Event, cookie=cookie):
        sent: asyncio.Queue = asyncio.Queue()
        asked = []

        async def receive():
            if not asked:
                asked.append(1)
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        task = asyncio.create_task(app(scope(path, cookie), receive, sent.put))
        return task, sent

    async def scenario():
        gone = asyncio.Event()
        task, sent = await call(reverse("mutual_aid:stream"), gone)
        start = await asyncio.wait_for(sent.get(), 10)
        assert start["status"] == 200
        assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
        assert (await asyncio.wait_for(sent.get(), 10))["body"].startswith(b"retry:")
        (listener,) = test_hub.pending
        assert isinstance(listener, stream.AsyncListener)
        post = await sync_to_async(_post, thread_sensitive=False)(tree, tree.household_a1)
        entry = await sync_to_async(_entry, thread_sensitive=False)(post, Reach.BUILDING)
        await sync_to_async(test_hub.tick, thread_sensitive=False)()
        frame = (await asyncio.wait_for(sent.get(), 10))["body"].decode()
        assert frame.startswith(f"id: {entry.pk}\nevent: post\n")
        gone.set()  # the browser goes away
        await asyncio.wait_for(task, 10)
        english = asyncio.Event()
        task, sent = await call("/en" + reverse("mutual_aid:stream"), english)  # an English page's stream
        assert (await asyncio.wait_for(sent.get(), 10))["status"] == 200
        assert (await asyncio.wait_for(sent.get(), 10))["body"].startswith(b"retry:")
        (listener,) = test_hub.pending
        assert listener.language == "en" and isinstance(listener, stream.AsyncListener)
        assert stream.card_url(5, "en") == "/en/mutual-aid/posts/5/card/"
        english.set()
        await asyncio.wait_for(task, 10)
        page, replies = await call("/healthz", asyncio.Event())
        first = await asyncio.wait_for(replies.get(), 10)
        await asyncio.wait_for(page, 10)
        anonymous, answer = await call(reverse("mutual_aid:stream"), asyncio.Event(), b"sessionid=nope")
        refused = await asyncio.wait_for(answer.get(), 10)
        await asyncio.wait_for(anonymous, 10)
        return test_hub.listening(), first["status"], refused["status"]

    # on a thread of its own with its own loop, as a server worker (a browser test's Playwright may run
    # a loop in this thread)
    import threading

    result: list = []
    runner = threading.Thread(target=lambda: result.append(asyncio.run(scenario())))
    runner.start()
    runner.join(60)
    assert result == [(0, 200, 403)]
