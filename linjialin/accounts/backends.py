from django.contrib.auth.backends import ModelBackend

from linjialin.core.scope import scope_for

SCOPED_APPS = ("places", "accounts", "audit", "requests", "mediation", "mutual_aid")  # perms from roles.py


class ScopedBackend(ModelBackend):
    """Django's `user.has_perm(perm, obj)` answered by the scope policy.

    Without an object: does the user hold `perm` anywhere? With an object: does the scope of `perm`
    cover the object's place path? Superusers (Django admin) get nothing extra here: a place-level
    permission always needs a grant (system_admin is granted everywhere).
    """

    def user_can_authenticate(self, user):
        """A service account (an integration's, User.is_service_account) acts only through its API
        tokens: it never signs in with a password, on the site's login page or the admin's."""
        return super().user_can_authenticate(user) and not getattr(user, "is_service_account", False)

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active:
            return False
        if "." in perm and perm.split(".")[0] in SCOPED_APPS:
            scope = scope_for(user_obj, perm)
            if obj is None:
                return not scope.is_empty
            return scope.covers(getattr(obj, getattr(obj, "scope_field", "path"), "") or "\x00")
        return super().has_perm(user_obj, perm, obj)
