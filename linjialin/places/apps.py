from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "linjialin.places"
    label = "places"
    verbose_name = _("Places")

    def ready(self):
        from linjialin.core import audit_labels

        audit_labels.register(
            {
                "resident.unmasked": _("Full number shown"),
                "resident.tagged": _("Tag added to a resident"),
                "resident.untagged": _("Tag removed from a resident"),
                "resident.account_linked": _("Resident linked to an account"),
                "resident.anonymised": _("Resident moved out (personal data anonymised)"),
                "resident.corrected": _("Resident data corrected on the resident's request"),
                "resident.correction_requested": _("Resident asked for a correction of their data"),
                "resident.correction_refused": _("Resident's correction request refused"),
                "roster.exported": _("Roster exported"),
                "roster.imported": _("Roster imported"),
                "entrance_profile.updated": _("Entrance profile changed"),
                "place.created": _("Place created"),
                "demo.loaded": _("Demo data loaded"),
            },
            personal=("resident.unmasked", "roster.exported"),
        )
        audit_labels.register_fields({}, objects={"places.roster": _("Roster")})
