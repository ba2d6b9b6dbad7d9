"""Form accessibility for the field templates: after a failed submit the first field in error gets
`autofocus` (the browser moves focus there, so a screen-reader or a slow reader lands on the problem)
and the page title starts with an error marker; aria-describedby names only ids the templates render
(`<id>_helptext` for the help text, `<id>-error` for the errors)."""

from __future__ import annotations

from django import template
from django.forms import BaseForm
from django.utils.translation import gettext as _

register = template.Library()


def _takes_focus(field) -> bool:
    """Visible fields, and hidden ones a picker stands in for (their widget carries `data-picker`:
    the picker's search box takes the focus, see places/_household_picker.html)."""
    return not field.is_hidden or "data-picker" in field.field.widget.attrs


def _first_error_name(form: BaseForm) -> str | None:
    """The field in error that comes first on the page (errors raised in clean() may be recorded out
    of field order, so the order of the form's fields decides)."""
    errors = form.errors
    return next((f.name for f in form if f.name in errors and _takes_focus(f)), None)


@register.filter
def is_first_error(field) -> bool:
    """Whether the field is its form's first in error (also a filter, for templates that draw a field by
    hand: the household picker)."""
    form = getattr(field, "form", None)
    return bool(form is not None and field.errors and _first_error_name(form) == field.name)


def describedby(field) -> str:
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return " ".join(ids)


@register.filter
def focus_first_error(field):
    """The field's widget, described by its help text and errors, with `autofocus` when it is the
    first field in error of its form."""
    attrs = {}
    if field.auto_id and (ids := describedby(field)):
        attrs["aria-describedby"] = ids
    if is_first_error(field):
        attrs["autofocus"] = True
    return field.as_widget(attrs=attrs) if attrs else field


@register.filter
def describedby_attr(field):
    """The aria-describedby value for a fieldset of choices ("" when there is nothing to point at)."""
    return describedby(field) if field.auto_id else ""


@register.filter
def choices_focus_first_error(field):
    """The field's radio / checkbox choices; the first one gets `autofocus` when the field is the
    first in error of its form."""
    choices = list(field)
    if choices and is_first_error(field):
        first = choices[0]
        first.data = {**first.data, "attrs": {**first.data["attrs"], "autofocus": True}}
    return choices


@register.simple_tag(takes_context=True)
def error_title_marker(context) -> str:
    """ "Error: " when a form on the page was submitted and failed validation, else "". Only forms the
    view already validated count (their errors are never computed here)."""
    for value in context.flatten().values():
        # type(), not isinstance(): a lazy context value (csrf token, messages) stays unevaluated
        inner = value.values() if type(value) is dict else value if type(value) in (list, tuple) else (value,)
        if any(issubclass(type(v), BaseForm) and v.is_bound and v._errors for v in inner):
            return _("Error:") + " "
    return ""
