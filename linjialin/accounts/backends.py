from django.contrib.auth.backends import ModelBackend

from linjialin.core.scope import scope_for

SCOPED_APPS = ("places", "accounts", "audit", "requests", "mediation", "mutual_aid")  # perms from roles.py


class ScopedBackend(ModelBackend):
    """Django's `user.has_perm(perm, obj)` answered by the scope policy.

    Without an object: does the user hold `perm` anywhere? With an object: does the scope of `perm`
    cover the object's place path? Superusers (Django admin) get nothing extra here: a place-level
    permission always needs a grant (system_admin is granted everywhere).
    """

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active:
            return False
        if "." in perm and perm.split(".")[0] in SCOPED_APPS:
            scope = scope_for(user_obj, perm)
            if obj is None:
                return not scope.is_empty
            return scope.covers(getattr(obj, getattr(obj, "scope_field", "path"), "") or "\x00")
        return super().has_perm(user_obj, perm, obj)
