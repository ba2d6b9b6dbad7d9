"""The error pages: localised, inside the site's frame, with a way home (DEBUG off, as in production)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

HOME_LINK = 'href="/"'
HOME_LINK_EN = 'href="/en/"'


def page(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize(
    ("prefix", "home", "heading", "explanation"),
    [
        ("", HOME_LINK, "页面不存在", "或您无权查看"),
        ("/en", HOME_LINK_EN, "Page not found", "or it is not open to you"),
    ],
)
def test_a_missing_page_answers_404_in_the_frame_with_a_way_home(
    client, resident_a, prefix, home, heading, explanation
):
    client.force_login(resident_a)
    response = client.get(f"{prefix}/requests/999999/")
    assert response.status_code == 404
    html = page(response)
    assert heading in html and explanation in html
    assert home in html
    assert 'class="navbar' in html and resident_a.display_name in html  # the site's frame, signed in
    assert "Not Found" not in html


def test_a_404_for_a_visitor_offers_to_log_in(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in page(response) and 'href="/accounts/login/"' in page(response)


@pytest.mark.parametrize(
    ("prefix", "heading", "explanation"),
    [("", "无权操作", "请联系社区办公室"), ("/en", "Not allowed", "ask your community office")],
)
def test_a_forbidden_action_answers_403_in_the_frame(
    client, tree, subdistrict_dispatcher, prefix, heading, explanation
):
    # the dispatcher sees the place tree but not the households in it
    client.force_login(subdistrict_dispatcher)
    response = client.get(f"{prefix}/places/{tree.household_a1.pk}/")
    assert response.status_code == 403
    html = page(response)
    assert heading in html and explanation in html
    assert f'href="{prefix}/"' in html and 'class="navbar' in html
    assert "403 Forbidden" not in html


@pytest.mark.parametrize(("prefix", "heading"), [("", "表单已过期"), ("/en", "The form has expired")])
def test_a_form_with_a_stale_token_gets_the_localised_csrf_page(prefix, heading):
    response = Client(enforce_csrf_checks=True).post(
        f"{prefix}/accounts/login/", {"username": "x", "password": "y"}
    )
    assert response.status_code == 403
    html = page(response)
    assert heading in html
    assert f'href="{prefix}/accounts/login/"' in html  # open the form again
    assert f'href="{prefix}/"' in html
    assert "CSRF verification failed" not in html


def test_the_csrf_page_goes_back_to_the_page_the_form_was_on():
    """A form's POST target may refuse a GET (405): "open the form again" follows the Referer, when it
    is this site's."""
    client = Client(enforce_csrf_checks=True)
    form_page = "http://testserver/accounts/login/?next=/requests/"
    html = page(client.post("/accounts/login/", {}, HTTP_REFERER=form_page))
    assert f'href="{form_page}"' in html
    foreign = page(client.post("/accounts/login/", {}, HTTP_REFERER="https://evil.example/accounts/login/"))
    assert "evil.example" not in foreign and 'href="/accounts/login/"' in foreign


@pytest.mark.parametrize(("prefix", "heading"), [("", "无法识别的请求"), ("/en", "Request not understood")])
def test_a_bad_request_answers_400_in_the_frame(client, prefix, heading):
    response = client.get(f"{prefix}/", HTTP_HOST="not-this-site.invalid")
    assert response.status_code == 400
    html = page(response)
    assert heading in html and f'href="{prefix}/"' in html
    assert "Bad Request" not in html


@override_settings(ROOT_URLCONF="linjialin.tests.error_urls")
@pytest.mark.parametrize(
    ("path", "heading", "home"),
    [("/fails/", "出错了", 'href="/"'), ("/en/fails/", "Something went wrong", 'href="/en/"')],
)
def test_a_failing_view_answers_the_localised_500_page_without_the_database(
    client, django_assert_num_queries, path, heading, home
):
    client.raise_request_exception = False
    with django_assert_num_queries(0):  # the page needs no database, so a database failure still shows it
        response = client.get(path)
    assert response.status_code == 500
    html = page(response)
    assert heading in html and home in html
    assert "110" in html  # where to turn in an emergency
    assert "Server Error" not in html


@override_settings(ROOT_URLCONF="linjialin.tests.error_urls")
def test_the_500_page_renders_when_a_context_processor_fails(client, resident_a, monkeypatch):
    def broken(user):
        raise RuntimeError("the notifications table is gone")

    monkeypatch.setattr("linjialin.notifications.context_processors.unread_count", broken)
    client.force_login(resident_a)
    client.raise_request_exception = False
    assert client.get("/requests/").status_code == 500  # the broken processor fails a normal page …
    response = client.get("/fails/")
    assert response.status_code == 500  # … but not the error page
    assert "出错了" in page(response)
