"""Login form that says when logins are locked and for how long; the token form with its lifetime."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import policies

NEVER = "never"

from gongzhi.core.text import LineField


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong user name or password."),
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            lock = getattr(self.request, "gongzhi_lock", None)
            if lock is not None:
                raise forms.ValidationError(lock.message(), code="locked") from None
            raise


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The old password is checked through the login throttle too, so a left-open session is no way round it."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if authenticate(self.request, username=self.user.get_username(), password=old_password) is None:
            lock = getattr(self.request, "gongzhi_lock", None)
            if lock is not None:
                raise forms.ValidationError(lock.message(), code="locked")
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


def _days_label(days: int) -> str:
    if days % 365 == 0:
        years = days // 365
        return ngettext("%(n)s year", "%(n)s years", years) % {"n": years}
    return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}


class TokenCreateForm(forms.Form):
    name = LineField(label=_("What is this token for?"), max_length=100)
    expires_in = forms.ChoiceField(label=_("Works for"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(d), _days_label(d)) for d in policies.token_day_choices()]
        if policies.tokens_may_live_forever():
            choices.append((NEVER, _("Never expires")))
        self.fields["expires_in"].choices = choices
        self.fields["expires_in"].initial = str(settings.API_TOKEN_DEFAULT_DAYS)

    def days(self) -> int | None:
        value = self.cleaned_data["expires_in"]
        return None if value == NEVER else int(value)


class LockLiftForm(forms.Form):
    """Which lock to lift: an account's from one address, or (no user name) a whole address."""

    address = forms.GenericIPAddressField(label=_("Network address"), error_messages={
        "required": _("Give the network address of the lock."),
        "invalid": _("Give a valid network address (IPv4 or IPv6)."),
    })
    username = forms.CharField(max_length=255, required=False)
