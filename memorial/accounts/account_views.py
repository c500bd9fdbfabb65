"""The account page: who you are signed in as, two-factor sign-in, and your API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from memorial.accounts import tokens
from memorial.accounts.two_factor import has_device, is_verified, may_use_two_factor, needs_setup
from memorial.core.api import BIGGEST_ID


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("What is it for?"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("For example “photo backup script”, to recognise it later."),
    )
    days = forms.IntegerField(label=gettext_lazy("Valid for how many days"), min_value=1)

    def clean_days(self) -> int:
        days = self.cleaned_data["days"]
        if days > tokens.max_days():
            raise forms.ValidationError(
                _("A token can be valid for at most %(days)s days.") % {"days": tokens.max_days()}
            )
        return days


def _fresh_form() -> TokenForm:
    return TokenForm(initial={"days": tokens.default_days()})


@never_cache  # the page that shows a new token once must not be kept by any cache
@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """Show the account and its API tokens; POST makes a token and shows it this once."""
    user = request.user
    form, issued, status = _fresh_form(), None, 200
    if request.method == "POST":
        form = TokenForm(request.POST)
        if needs_setup(user):
            form, status = _fresh_form(), 403
        elif form.is_valid():
            issued = tokens.issue(
                user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                two_factor=has_device(user) and is_verified(user),
            )
            form = _fresh_form()
        else:
            status = 400
    context = {
        "form": form,
        "issued": issued,
        "api_tokens": user.api_tokens.all(),
        "needs_setup": needs_setup(user),
        "offer_two_factor": may_use_two_factor(user),
        "two_factor_on": has_device(user),
    }
    return render(request, "accounts/account.html", context, status=status)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = request.user.api_tokens.filter(pk=token_id).first() if token_id <= BIGGEST_ID else None
    if token is None:
        raise Http404
    tokens.revoke(token)
    messages.success(
        request,
        _("The token that starts with “%(prefix)s” no longer works.") % {"prefix": token.prefix},
    )
    return redirect("accounts:account")
