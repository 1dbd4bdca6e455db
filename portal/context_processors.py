from portal import selectors


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_count": 0}
    return {"unread_count": selectors.unread_count(user=user)}
