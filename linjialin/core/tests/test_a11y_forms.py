"""After a failed submit the page says so in its title, the first field in error carries `autofocus`
(the browser moves focus there) and every aria-describedby names an id that is on the page."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


class _Form(forms.Form):
    name = forms.CharField(help_text="Your name")
    age = forms.IntegerField()
    city = forms.CharField(required=False)

    def clean(self):
        # an error recorded out of field order: the page order still decides which field is first
        if (self.cleaned_data.get("age") or 0) < 18:
            self.add_error("age", "Too young")
        return super().clean()


FIELDS = Template(
    "{% load a11y %}<title>{% error_title_marker %}Page</title>"
    "{% for field in form %}{{ field|focus_first_error }}"
    '{% if field.help_text %}<div id="{{ field.auto_id }}_helptext"></div>{% endif %}'
    '{% if field.errors %}<div id="{{ field.auto_id }}-error"></div>{% endif %}{% endfor %}'
)


def described_ids_exist(html: str) -> bool:
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    wanted = {i for value in re.findall(r'aria-describedby="([^"]+)"', html) for i in value.split()}
    return wanted <= ids


def autofocused(html: str) -> list[str]:
    return re.findall(r'<[^>]*\bautofocus\b[^>]*\bid="([^"]+)"|<[^>]*\bid="([^"]+)"[^>]*\bautofocus\b', html)


def test_the_first_field_in_page_order_gets_the_focus_and_the_title_the_marker():
    form = _Form(data={"name": "", "age": "12"})
    assert not form.is_valid()
    with translation.override("en"):
        html = FIELDS.render(Context({"form": form}))
    assert html.startswith("<title>Error: Page</title>")
    focused = [a or b for a, b in autofocused(html)]
    assert focused == ["id_name"]
    assert 'aria-describedby="id_name_helptext id_name-error"' in html
    assert described_ids_exist(html)


def test_a_form_not_submitted_or_valid_has_no_marker_and_no_focus():
    valid = _Form(data={"name": "A", "age": "70"})
    assert valid.is_valid()
    for form in (_Form(), valid):
        html = FIELDS.render(Context({"form": form}))
        assert "<title>Page</title>" in html and "autofocus" not in html
        assert 'aria-describedby="id_name_helptext"' in html and described_ids_exist(html)


def test_a_bound_form_the_view_never_validated_is_not_validated_by_the_title():
    form = _Form(data={"name": ""})
    html = Template("{% load a11y %}<title>{% error_title_marker %}Page</title>").render(Context({"f": form}))
    assert html == "<title>Page</title>" and form._errors is None


def test_the_failed_request_form_focuses_the_description_and_the_title_says_error(login, resident_a):
    client = login(resident_a)
    data = {"request_type": "help", "description": "", "place": "household"}
    response = client.post(reverse("requests:submit"), data)
    html = response.content.decode()
    assert response.status_code in (200, 422)
    assert re.search(r"<title>错误： ", html)
    assert [a or b for a, b in autofocused(html)] == ["id_description"]
    assert described_ids_exist(html)


def test_the_failed_entrance_profile_focuses_its_field(login, tree, entrance_leader_a):
    client = login(entrance_leader_a)
    response = client.post(reverse("places:profile_edit", args=[tree.entrance_a.pk]), {"spare_keys": "999"})
    html = response.content.decode()
    assert re.search(r"<title>错误： ", html)
    first_invalid = re.search(r'<[^>]*aria-invalid="true"[^>]*>', html).group(0)
    assert [a or b for a, b in autofocused(html)] == re.findall(r'\bid="([^"]+)"', first_invalid)
    assert described_ids_exist(html)


def test_the_unfailed_request_form_has_no_marker(login, resident_a):
    html = login(resident_a).get(reverse("requests:submit")).content.decode()
    assert "<title>错误" not in html and "autofocus" not in html and described_ids_exist(html)
