from .selectors import unread_count


def unread(request):
    """`unread_notifications` for the nav badge (one indexed count per page for a logged-in user)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user)}
