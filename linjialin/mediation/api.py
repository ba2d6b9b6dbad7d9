"""/api/v1/mediation: the centre over the same selectors and services as the pages."""

from ninja import Router

router = Router(tags=["mediation"])
