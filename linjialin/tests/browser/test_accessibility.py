"""For the eldest users: every resident and 楼门长 page at 375×812 passes axe-core (WCAG 2.1 A + AA: 0
critical, 0 serious), has no sideways scroll at 200 % zoom, no button, nav link, switch or radio /
checkbox row under 44×44 px and no visible text under 16 px. After a failed submit the focus is on
the first field in error and the page title starts with the error marker."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from linjialin.mediation.services import cases
from linjialin.mutual_aid.services import posts
from linjialin.mutual_aid.tests.test_care_fixtures import tag
from linjialin.notifications.services import notify
from linjialin.service_requests import services as requests

from .axe import axe_violations, describe, scroll_width_at_double_zoom, small_tap_targets, small_text
from .conftest import fits_phone, screenshot
from .test_phone_flows import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world(tree, resident_a, entrance_leader_a):
    """Something on every page: a resolved request waiting for the resident's rating (its notices in
    both inboxes), an open request in the 楼门长's queue, a mediation case, a mutual-aid need, and a
    household on the care list."""
    done = requests.submit_request(
        resident_a, place=tree.entrance_a, request_type="help", description="1单元楼道的灯坏了，看不见台阶"
    )
    requests.accept_request(entrance_leader_a, done)
    requests.record_contact(entrance_leader_a, done, note="电话联系了张三，约好明天上午上门")
    requests.resolve_request(entrance_leader_a, done, result="已更换楼道灯泡，并检查了开关")
    waiting = requests.submit_request(
        resident_a, place=tree.entrance_a, request_type="help", description="单元门的门禁坏了，关不上"
    )
    case = cases.apply_for_mediation(
        resident_a,
        household=tree.household_a1,
        dispute_type="neighbour",
        title="噪音扰民",
        facts="楼上每晚十二点后还在装修",
        other_party_name="李四",
    )
    post = posts.create_post(
        resident_a, household=tree.household_a1, kind="need", category="errands", text="帮忙买两瓶矿泉水"
    )
    tag(tree.resident_a1, "elderly_alone")
    for user in (resident_a, entrance_leader_a):  # an unread notice: its "mark read" button on a tinted row
        notify([user], kind="request", title="诉求有新进展", link=reverse("requests:detail", args=[done.pk]))
    return {"done": done, "waiting": waiting, "case": case, "post": post}


def resident_pages(tree, world) -> list[tuple[str, str]]:
    return [
        ("home", reverse("home")),
        ("submit", reverse("requests:submit")),
        ("my-requests", reverse("requests:mine")),
        ("request-rate", reverse("requests:detail", args=[world["done"].pk])),
        ("request-open", reverse("requests:detail", args=[world["waiting"].pk])),
        ("inbox", reverse("notifications:inbox")),
        ("household", reverse("places:detail", args=[tree.household_a1.pk])),
        ("board", reverse("requests:board_entrance", args=[tree.entrance_a.pk])),
        ("mediation-apply", reverse("mediation:apply")),
        ("mediation-mine", reverse("mediation:my_cases")),
        ("mediation-case", reverse("mediation:my_case", args=[world["case"].pk])),
        ("aid-open", reverse("mutual_aid:open")),
        ("aid-new", reverse("mutual_aid:new")),
        ("aid-mine", reverse("mutual_aid:mine")),
        ("aid-post", reverse("mutual_aid:post", args=[world["post"].pk])),
        ("aid-settings", reverse("mutual_aid:settings")),
    ]


def leader_pages(tree, world) -> list[tuple[str, str]]:
    return [
        ("home", reverse("home")),
        ("queue", reverse("requests:queue")),
        ("rates", reverse("requests:rates")),
        ("request-new", reverse("requests:detail", args=[world["waiting"].pk])),
        ("request-resolved", reverse("requests:detail", args=[world["done"].pk])),
        ("behalf", reverse("requests:behalf")),
        ("inbox", reverse("notifications:inbox")),
        ("entrance", reverse("places:detail", args=[tree.entrance_a.pk])),
        ("household", reverse("places:detail", args=[tree.household_a1.pk])),
        ("profile-edit", reverse("places:profile_edit", args=[tree.entrance_a.pk])),
        ("board", reverse("requests:board_entrance", args=[tree.entrance_a.pk])),
        ("care", reverse("mutual_aid:care")),
        ("care-household", reverse("mutual_aid:care_household", args=[tree.household_a1.pk])),
        ("aid-open", reverse("mutual_aid:open")),
        ("aid-new", reverse("mutual_aid:new")),
        ("aid-post", reverse("mutual_aid:post", args=[world["post"].pk])),
    ]


def problems_on(page, name: str) -> list[str]:
    """Everything wrong with the page as it stands, each line naming the page."""
    found = []
    violations = axe_violations(page)
    if violations:
        found.append(f"{name}: axe-core\n{describe(violations)}")
    checks = (("targets under 44×44", small_tap_targets(page)), ("text under 16px", small_text(page)))
    for what, items in checks:
        if items:
            found.append(f"{name}: {what}: " + "; ".join(items[:12]))
    wide, view = scroll_width_at_double_zoom(page)
    if wide > view:
        found.append(f"{name}: scrolls sideways at 200 % zoom ({wide}px in {view}px)")
    return found


def visit_all(page, pages, prefix: str) -> list[str]:
    found = []
    for name, path in pages:
        response = page.goto(page.url_for(path))
        assert response.status == 200, f"{path} answered {response.status}"
        fits_phone(page)
        screenshot(page, f"a11y-{prefix}-{name}")
        found += problems_on(page, f"{prefix} {name} ({path})")
    return found


LANGUAGES = pytest.mark.parametrize("lang", ["zh-hans", "en"])  # English words are longer


@LANGUAGES
def test_every_resident_page_passes_axe_and_the_phone_checks(phone, tree, resident_a, world, lang):
    log_in(phone, resident_a.mobile)
    with translation.override(lang):
        pages, home = resident_pages(tree, world), reverse("home")
    found = visit_all(phone, pages, f"resident-{lang}")
    # the emergency numbers on the submit page are big call buttons, not links in a sentence
    phone.goto(phone.url_for(pages[1][1]))
    calls = phone.locator("main a.btn[href^='tel:']")
    assert [calls.nth(i).get_attribute("href") for i in range(calls.count())] == [
        "tel:110",
        "tel:119",
        "tel:120",
        "tel:122",
    ]
    assert min(calls.nth(i).bounding_box()["height"] for i in range(4)) >= 60
    phone.goto(phone.url_for(home))
    phone.locator("button.navbar-toggler").click()  # the opened menu too
    phone.locator("#nav.show").wait_for()
    found += problems_on(phone, "resident menu")
    assert not found, "\n".join(found)


@LANGUAGES
def test_every_entrance_leader_page_passes_axe_and_the_phone_checks(
    phone, tree, entrance_leader_a, world, lang
):
    log_in(phone, entrance_leader_a.mobile)
    with translation.override(lang):
        pages, queue = leader_pages(tree, world), reverse("requests:queue")
    found = visit_all(phone, pages, f"leader-{lang}")
    phone.goto(phone.url_for(queue))
    phone.locator("button.navbar-toggler").click()
    phone.locator("#nav.show").wait_for()
    screenshot(phone, f"a11y-leader-{lang}-menu")
    found += problems_on(phone, "leader menu")
    assert not found, "\n".join(found)


def submit_without_browser_checks(page) -> None:
    """Submit the main form as it stands, past the browser's own `required` checks, so the server's
    validation answers (as it does for an old phone browser)."""
    page.locator("main form[method=post]").last.evaluate("form => { form.noValidate = true; }")
    page.locator("main form[method=post]").last.locator("button[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("who", "url_name", "first_field"),
    [
        ("resident_a", "requests:submit", "id_description"),
        ("resident_a", "mediation:apply", None),
        ("resident_a", "mutual_aid:new", None),
        ("entrance_leader_a", "requests:behalf", None),
    ],
)
def test_a_failed_submit_focuses_the_first_error_and_says_so_in_the_title(
    request, phone, tree, who, url_name, first_field
):
    user = request.getfixturevalue(who)
    log_in(phone, user.mobile)
    phone.goto(phone.url_for(reverse(url_name)))
    title = phone.title()
    assert not title.startswith("错误")
    submit_without_browser_checks(phone)

    assert phone.title() == "错误： " + title
    invalid = phone.locator("main [aria-invalid=true]")
    assert invalid.count() >= 1
    focused = phone.evaluate("document.activeElement.id")
    assert focused == invalid.first.get_attribute("id")
    if first_field:
        assert focused == first_field
    described = phone.locator("main [aria-describedby]")
    for ids in described.evaluate_all("els => els.map(e => e.getAttribute('aria-describedby'))"):
        for target in ids.split():
            assert phone.locator(f"#{target}").count() == 1, f"aria-describedby points at a missing #{target}"
    screenshot(phone, f"a11y-failed-{url_name.replace(':', '-')}")
    found = problems_on(phone, f"failed {url_name}")
    assert not found, "\n".join(found)
