from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_POST

from linjialin.core.scope import scope_for
from linjialin.places import selectors as place_selectors

from . import services
from .forms import MobileLoginForm
from .roles import ROLES, Perm, Role
from .selectors import home_roles


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = MobileLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().language
        translation.activate(language)
        response.set_cookie("django_language", language, samesite="Lax")
        return redirect(translated_home(language)) if not self.get_redirect_url() else response


def translated_home(language: str) -> str:
    with translation.override(language):
        from django.urls import reverse

        return reverse("home")


@login_required
def home(request):
    """One home page; what it shows depends on the roles the user holds."""
    user = request.user
    grants = home_roles(user)
    perms = {p for p in Perm if not scope_for(user, p).is_empty}
    cards = []
    for grant in grants:
        place = grant.place
        cards.append({
            "grant": grant,
            "spec": ROLES[Role(grant.role)],
            "totals": place_selectors.place_totals(place) if place.level < 5 else None,
        })
    return render(request, "accounts/home.html", {"cards": cards, "perms": perms, "Perm": Perm})


@login_required
@require_POST
def set_language(request):
    """Remember the language on the account as well as in the cookie."""
    language = request.POST.get("language", "zh-hans")
    services.set_language(request.user, language=language)
    translation.activate(language)
    response = redirect(translated_home(language))
    response.set_cookie("django_language", language, samesite="Lax")
    return response


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
