"""Sign-in, and sign-up through an invitation link."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

from memorial.accounts.forms import EmailAuthenticationForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    raise NotImplementedError
