"""Login form that says when logins are locked and for how long; the token form with its lifetime."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
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


# --- joining by real name ------------------------------------------------------------------------------------------


class JoinPersonForm(forms.Form):
    """Who is joining: name, last 4 of the ID number, and (a new account) phone and password; the action checks
    them and says what is wrong, field by field."""

    name = LineField(label=_("Your name (as on your ID card)"), max_length=50,
                     widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_last4 = LineField(label=_("Last 4 characters of your ID number"), max_length=8,
                         widget=forms.TextInput(attrs={"inputmode": "text", "autocomplete": "off", "size": 6}))
    phone = LineField(label=_("Mobile number (your login name)"), max_length=20, required=False,
                      widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    password = forms.CharField(label=_("Password"), max_length=1024, required=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("At least 8 characters, not only digits, not a common password."))
    sms_code = LineField(label=_("Code from the text message"), max_length=8, required=False,
                         widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))

    def __init__(self, *args, existing_account=False, verify_phone=False, **kwargs):
        super().__init__(*args, **kwargs)
        if existing_account:
            for name in ("phone", "password", "sms_code"):
                del self.fields[name]
        elif not verify_phone:
            del self.fields["sms_code"]

    def add_action_errors(self, exc) -> None:
        """An action's ValidationError on the fields it names (the rest on the form)."""
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)


class JoinCodeForm(JoinPersonForm):
    code = LineField(label=_("Join code"), max_length=20,
                     widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}))

    field_order = ["code", "name", "id_last4", "phone", "password", "sms_code"]


class JoinAskForm(JoinPersonForm):
    community = forms.TypedChoiceField(label=_("Community or village"), coerce=int)
    compound = forms.TypedChoiceField(label=_("Compound"), coerce=int, required=False, empty_value=None)
    building = forms.TypedChoiceField(label=_("Building"), coerce=int, required=False, empty_value=None)
    address = LineField(label=_("Your household's address"), max_length=200,
                        help_text=_("Building, entrance and room, or the house number in the village."))

    field_order = ["community", "compound", "building", "address", "name", "id_last4", "phone", "password", "sms_code"]

    def __init__(self, *args, communities=(), compounds=(), buildings=(), **kwargs):
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        self.fields["community"].choices = blank + list(communities)
        self.fields["compound"].choices = blank + list(compounds)
        self.fields["building"].choices = blank + list(buildings)
        # Picking a community fills the compounds, a compound the buildings (htmx; the server checks them anyway).
        from django.urls import reverse

        url = reverse("join:places")
        self.fields["community"].widget.attrs.update({"hx-get": url, "hx-target": "#id_compound", "hx-trigger": "change"})
        self.fields["compound"].widget.attrs.update({"hx-get": url, "hx-target": "#id_building", "hx-trigger": "change"})


class JoinCodeCreateForm(forms.Form):
    days = forms.TypedChoiceField(label=_("Works for"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].choices = [(d, _days_label(d)) for d in policies.join_code_day_choices()]
        self.fields["days"].initial = settings.JOIN_CODE_DEFAULT_DAYS


class JoinRejectForm(forms.Form):
    reason = LineField(label=_("Why is it refused?"), max_length=200,
                       help_text=_("The person asking is told (by text message where the server sends them)."))


class UnlinkForm(forms.Form):
    resident = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    reason = LineField(label=_("Why?"), max_length=200, initial="")
# --- staff accounts ------------------------------------------------------------------------------------------


def _node_label(node, top: int) -> str:
    return "\u3000" * (node.depth - top) + f"{node.name} · {node.get_kind_display()}"


def node_choices(user) -> list[tuple[int, str]]:
    """The nodes where ``user`` manages users, indented by depth, in tree order."""
    from .selectors import manage_nodes

    nodes = list(manage_nodes(user).only("id", "name", "kind", "depth", "path"))
    top = min((n.depth for n in nodes), default=1)
    return [(n.pk, _node_label(n, top)) for n in nodes]


def role_choices(user) -> list[tuple[str, str]]:
    from gongzhi.core.access import Role

    return [(r, Role(r).label) for r in policies.assignable_roles(user) if r != Role.RESIDENT]


def unit_choices(user) -> list[tuple[str, str]]:
    from .selectors import manage_units

    return [("", "—")] + [(str(u.pk), f"{u.name} · {u.get_kind_display()}") for u in manage_units(user)]


class _RoleFields(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    node = forms.TypedChoiceField(label=_("Where"), coerce=int)
    unit = forms.TypedChoiceField(label=_("Unit"), coerce=int, required=False, empty_value=None,
                                  help_text=_("Only for a department handler or partner-unit contact."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(user)
        self.fields["node"].choices = node_choices(user)
        self.fields["unit"].choices = unit_choices(user)


class UserCreateForm(_RoleFields):
    display_name = LineField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Mobile number"), max_length=20,
                            help_text=_("The login name of the account."))
    field_order = ["display_name", "phone", "role", "node", "unit"]


class RoleAssignForm(_RoleFields):
    pass


class ReasonForm(forms.Form):
    reason = LineField(label=_("Reason"), max_length=200)


class UserFilterForm(forms.Form):
    STATUS_CHOICES = [("", _("Any")), ("active", _("Active")), ("waiting", _("Waiting for activation")),
                      ("disabled", pgettext_lazy("account status", "Disabled"))]

    q = LineField(label=_("Search"), required=False, max_length=50)
    node = forms.IntegerField(label=_("Where"), required=False, min_value=1, max_value=2**63 - 1)
    role = forms.ChoiceField(label=_("Role"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)

    def __init__(self, *args, **kwargs):
        from gongzhi.core.access import Role

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = ([("", _("Any staff role"))] + list(Role.choices)
                                       + [("all", _("Everyone (residents too)"))])


class RosterUploadForm(forms.Form):
    node = forms.TypedChoiceField(label=_("Import into"), coerce=int)
    file = forms.FileField(label=_("Excel file (.xlsx)"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = node_choices(user)


class RosterExportForm(forms.Form):
    node = forms.TypedChoiceField(label=_("Area"), coerce=int)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = node_choices(user)


class ActivateForm(forms.Form):
    """An imported account's first password, with the activation code from the sheet."""

    username = forms.CharField(label=_("Mobile number"), max_length=20)
    code = forms.CharField(label=_("Activation code"), max_length=30)
    new_password1 = forms.CharField(label=_("New password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label=_("New password (again)"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords do not match."))
        return data


class PartyMemberAccountForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number"), max_length=20,
                            help_text=_("The member's login name. An account with this number that belongs to "
                                        "nobody on the registry is linked; otherwise a new one is made."))
