"""Template helpers for pages outside the app that link into the centre."""

from django import template

from linjialin.mediation.models import DisputeType

register = template.Library()


@register.simple_tag
def dispute_types():
    """The dispute types (value, label) for a referral form on another app's page."""
    return DisputeType.choices
