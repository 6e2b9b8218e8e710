"""Login form that says when an account is locked and until when."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.text import LineField


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong user name or password."),
        "locked": _("Too many failed attempts: this account is locked until %(until)s."),
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            until = getattr(self.request, "gongzhi_locked_until", None)
            if until:
                raise forms.ValidationError(
                    self.error_messages["locked"],
                    code="locked",
                    params={"until": timezone.localtime(until).strftime("%H:%M")},
                ) from None
            raise


class TokenCreateForm(forms.Form):
    name = LineField(label=_("What is this token for?"), max_length=100)
