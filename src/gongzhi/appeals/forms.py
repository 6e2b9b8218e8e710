"""Appeal page forms: the staff workbench (list filters, one form per action), the admin settings pages."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.core.text import BlockField, LineField
from gongzhi.core.forms import DateField

from .models import Category, Channel, DeadlinePolicy, DueState, RoutingRule, Satisfaction, Status, TimeUnit

_ANY = [("", _("Any"))]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos in one input (Django's documented pattern); the action checks their type and size."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [f for f in (super(MultipleFileField, self).clean(d, initial) for d in files) if f]


# === staff workbench ===========================================================================


class AppealFilterForm(forms.Form):
    """The appeal list's filters. ``node`` and ``handler`` are checked against the scope by the view."""

    q = LineField(label=_("Search"), required=False, max_length=60)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_ANY + list(Status.choices))
    due = forms.ChoiceField(label=_("Deadline"), required=False, choices=_ANY + list(DueState.choices))
    category = forms.IntegerField(label=_("Category"), required=False, min_value=1)
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=_ANY + list(Channel.choices))
    node = forms.IntegerField(label=_("Area"), required=False, min_value=1)
    handler = forms.RegexField(label=_("Handled by"), required=False, regex=r"^[nu]\d{1,18}$")
    date_from = DateField(label=pgettext_lazy("date range", "From"), required=False)
    date_to = DateField(label=pgettext_lazy("date range", "To"), required=False)
    mine = forms.BooleanField(label=_("Only mine to act on"), required=False)

    def clean(self):
        data = super().clean()
        lo, hi = data.get("date_from"), data.get("date_to")
        if lo and hi and lo > hi:
            raise forms.ValidationError(_("'From' is after 'to'."))
        return data


class SeenForm(forms.Form):
    """Every action form carries the state the user saw, so a stale page is told who acted meanwhile."""

    seen = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)


class DispatchForm(SeenForm):
    target = forms.ChoiceField(label=_("Send to"))
    note = BlockField(label=_("Note for the handler"), required=False, max_length=500,
                      widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = list(targets)


class NoteForm(SeenForm):
    note = BlockField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RequiredNoteForm(SeenForm):
    note = BlockField(label=_("Note"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(SeenForm):
    reason = BlockField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(SeenForm):
    result = BlockField(label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleFileField(label=_("Photos"), required=False)


class ExtensionForm(SeenForm):
    days = forms.IntegerField(label=_("Extra working days"), min_value=1, max_value=30, initial=3)
    reason = BlockField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class VerifyForm(SeenForm):
    ok = forms.TypedChoiceField(
        label=_("Result of the check"), coerce=lambda v: v == "1",
        choices=[("1", _("Done: verified")), ("0", _("Not done: send back to the handler"))],
        widget=forms.RadioSelect, initial="1",
    )
    note = BlockField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class DecideForm(forms.Form):
    request = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(coerce=lambda v: v == "1", choices=[("1", _("Approve")), ("0", _("Reject"))])
    note = LineField(label=_("Note"), required=False, max_length=500)


class CallbackForm(SeenForm):
    resolved = forms.TypedChoiceField(
        label=_("Was the problem solved?"), coerce=lambda v: v == "1",
        choices=[("1", _("Solved")), ("0", _("Not solved"))], widget=forms.RadioSelect,
    )
    satisfaction = forms.ChoiceField(label=_("Satisfaction"), choices=Satisfaction.choices, widget=forms.RadioSelect)
    comment = BlockField(label=_("What the resident said"), required=False, max_length=1000,
                         widget=forms.Textarea(attrs={"rows": 2}))


class MergeForm(SeenForm):
    into = forms.IntegerField(widget=forms.HiddenInput)
    note = LineField(label=_("Note"), required=False, max_length=500)


# === admin settings ============================================================================

DATATYPES = [
    ("string", _("Short text")), ("text", _("Long text")), ("number", _("Number")), ("datetime", _("Date and time")),
    ("singlevaluelist", _("One of a list")), ("multivaluelist", _("Several of a list")),
]
_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


class CategoryForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40,
                           help_text=_("Open311 service_code: letters, digits, - and _"))
    name = LineField(label=_("Name"), max_length=60)
    description = BlockField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    parent = forms.TypedChoiceField(label=_("Parent category"), required=False, coerce=int, empty_value=None)
    policy = forms.TypedChoiceField(label=_("Deadline policy"), required=False, coerce=int, empty_value=None,
                                    help_text=_("Empty: the parent category's policy"))
    keywords = LineField(label=_("Keywords"), required=False, max_length=200)
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767, initial=0)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, parents=(), policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("(top level)"))] + list(parents)
        self.fields["policy"].choices = [("", _("(inherited)"))] + list(policies)


class FormFieldForm(forms.Form):
    """One attribute of a category's form (Open311 service definition); ``values`` one "key: name" a line."""

    code = forms.CharField(label=_("Code"), max_length=40, required=False)
    datatype = forms.ChoiceField(label=_("Type"), choices=DATATYPES, initial="string")
    required = forms.BooleanField(label=_("Required"), required=False)
    description = LineField(label=_("Question"), max_length=200, required=False)
    values = BlockField(label=_("Values (one “key: name” per line)"), required=False,
                        widget=forms.Textarea(attrs={"rows": 2}))

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if code and not _CODE_RE.match(code):
            raise forms.ValidationError(_("Letters, digits and _ only, starting with a letter."))
        return code

    def clean_values(self):
        values = []
        for line in self.cleaned_data["values"].splitlines():
            line = line.strip()
            if not line:
                continue
            key, sep, name = line.partition(":")
            if not sep:
                key, sep, name = line.partition("：")  # a Chinese colon typed on a Chinese keyboard
            key, name = key.strip(), (name.strip() if sep else key.strip())
            values.append({"key": key, "name": name})
        return values


FormFieldFormSet = forms.formset_factory(FormFieldForm, extra=2, can_delete=True, max_num=40)


def form_field_initial(form_fields: list[dict]) -> list[dict]:
    """A category's stored form fields as the formset's initial rows."""
    return [
        {"code": f.get("code", ""), "datatype": f.get("datatype", "string"), "required": bool(f.get("required")),
         "description": f.get("description", ""),
         "values": "\n".join(f"{v.get('key')}: {v.get('name')}" for v in f.get("values", []))}
        for f in sorted(form_fields or [], key=lambda f: f.get("order", 0))
    ]


class PolicyForm(forms.ModelForm):
    class Meta:
        model = DeadlinePolicy
        fields = ["name", "response_amount", "response_unit", "resolve_amount", "resolve_unit", "due_soon_percent",
                  "reopen_on_unsatisfied", "max_reopens"]
        field_classes = {"name": LineField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_soon_percent"].widget.attrs["max"] = 100
        for name in ("response_unit", "resolve_unit"):
            self.fields[name].choices = TimeUnit.choices


class RoutingRuleForm(forms.Form):
    node = forms.TypedChoiceField(label=_("Applies under"), coerce=int)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    target = forms.ChoiceField(label=_("Handled by"), choices=RoutingRule.Target.choices)
    target_node = forms.TypedChoiceField(label=_("Fixed org node"), required=False, coerce=int, empty_value=None)
    target_unit = forms.TypedChoiceField(label=_("Department or partner unit"), required=False, coerce=int,
                                         empty_value=None)
    auto_dispatch = forms.BooleanField(label=_("Dispatch automatically"), required=False)

    def __init__(self, *args, nodes=(), categories=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = list(nodes)
        self.fields["category"].choices = [("", _("Every category"))] + list(categories)
        self.fields["target_node"].choices = [("", "—")] + list(nodes)
        self.fields["target_unit"].choices = [("", "—")] + list(units)


class RouteTestForm(forms.Form):
    node = forms.TypedChoiceField(label=_("Place"), coerce=int)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int)

    def __init__(self, *args, nodes=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = list(nodes)
        self.fields["category"].choices = list(categories)


class CalendarDayForm(forms.Form):
    date = DateField(label=_("Date"))
    is_workday = forms.TypedChoiceField(
        label=_("This day is"), coerce=lambda v: v == "1",
        choices=[("0", _("a day off (holiday)")), ("1", _("a working day (make-up day)"))],
    )
    name = LineField(label=_("Name"), required=False, max_length=50, help_text=_("e.g. 春节, 国庆节调休上班"))


class CalendarConfirmForm(forms.Form):
    confirmed = forms.TypedChoiceField(coerce=lambda v: v == "1", choices=[("1", "1"), ("0", "0")])
    note = LineField(label=_("Note"), required=False, max_length=200)


# === resident pages and filing for residents (views_resident) ==================================

PLACE_HOUSEHOLD, PLACE_GRID, PLACE_ADDRESS = "household", "grid", "address"


def category_choices(categories) -> list:
    """Active categories for a <select>, grouped under their top-level category (an <optgroup>);
    a top-level category without children stands alone."""
    cats = list(categories)
    by_pk = {c.pk: c for c in cats}

    def chain(c):  # from the top-level category down to ``c``, through active categories only
        out = [c]
        while out[-1].parent_id in by_pk and len(out) < 10:
            out.append(by_pk[out[-1].parent_id])
        return out[::-1]

    groups: dict[int, list] = {}
    for c in cats:
        groups.setdefault(chain(c)[0].pk, []).append(c)
    out: list = [("", _("Choose what it is about"))]
    for top_pk, members in groups.items():
        top = by_pk[top_pk]
        if len(members) == 1:
            out.append((top.pk, top.name))
            continue
        options = [(c.pk, " › ".join(x.name for x in chain(c)[1:]) or c.name) for c in members]
        out.append((top.name, options))
    return out


class CategoryFieldsForm(forms.Form):
    """A category's own questions (Open311 attributes) as inputs named ``attr-<code>``; the filing
    action checks the answers again."""

    def __init__(self, *args, category=None, **kwargs):
        kwargs.setdefault("prefix", "attr")
        super().__init__(*args, **kwargs)
        self.category = category
        specs = sorted((category.form_fields or []) if category else [], key=lambda f: f.get("order", 0))
        for spec in specs:
            code = str(spec.get("code") or "").strip()
            if code:
                self.fields[code] = self._field(spec)

    @staticmethod
    def _field(spec: dict) -> forms.Field:
        label = spec.get("description") or spec.get("code")
        required = bool(spec.get("required"))
        kind = spec.get("datatype", "string")
        values = [(str(v.get("key")), v.get("name") or v.get("key")) for v in spec.get("values", [])]
        if kind == "number":
            return forms.FloatField(label=label, required=required, widget=forms.NumberInput(attrs={"inputmode": "decimal"}))
        if kind == "text":
            return BlockField(label=label, required=required, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
        if kind == "datetime":
            return LineField(label=label, required=required, max_length=20,
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
        if kind == "singlevaluelist":
            # A few values read best as big radio tiles on a phone; a long list as a select.
            widget = forms.RadioSelect if len(values) <= 6 else forms.Select
            choices = values if widget is forms.RadioSelect else [("", "—")] + values
            return forms.ChoiceField(label=label, required=required, choices=choices, widget=widget)
        if kind == "multivaluelist":
            return forms.MultipleChoiceField(label=label, required=required, choices=values,
                                             widget=forms.CheckboxSelectMultiple)
        return LineField(label=label, required=required, max_length=200)

    def answers(self) -> dict:
        """The answers given, for ``appeal_file(attributes=...)``."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}


class AppealFileForm(forms.Form):
    """The resident's form: what, a description, photos and where (their household, a grid on the map,
    or a typed address)."""

    category = forms.ModelChoiceField(label=_("What is it about?"), queryset=Category.objects.none())
    description = BlockField(
        label=_("What is the problem?"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": _("Say what happened, where exactly, and since when.")}),
    )
    photos = MultipleFileField(label=_("Photos (up to 9)"), required=False)
    place = forms.ChoiceField(label=_("Where is it?"), widget=forms.RadioSelect)
    node = forms.TypedChoiceField(label=_("Grid"), coerce=int, required=False, empty_value=None)
    address = LineField(label=_("Address or landmark"), max_length=200, required=False)

    def __init__(self, *args, categories, nodes, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        self.fields["category"].choices = category_choices(categories)
        self.fields["photos"].widget.attrs["capture"] = True
        self.fields["place"].choices = list(places)
        self.fields["place"].initial = places[0][0] if places else None
        self.fields["node"].choices = [("", _("Choose a grid"))] + [(n.pk, n.label) for n in nodes]
        self.nodes = {n.pk: n for n in nodes}

    def clean(self):
        data = super().clean()
        place = data.get("place")
        if place == PLACE_GRID:
            if data.get("node") is None:
                self.add_error("node", _("Tap a grid on the map or choose one from the list."))
            data["node"] = self.nodes.get(data.get("node"))
        else:
            data["node"] = None
        if place == PLACE_ADDRESS and not data.get("address", "").strip():
            self.add_error("address", _("Type the address."))
        return data


class StaffAppealFileForm(AppealFileForm):
    """Staff filing for a resident: how the appeal came in, and for whom (from the registry, or a
    name and phone for someone not in it)."""

    field_order = ["channel", "q", "reporter", "reporter_name", "reporter_phone"]

    channel = forms.ChoiceField(label=_("How did it come in?"))
    q = LineField(label=_("Find the resident"), required=False, max_length=60)
    reporter = forms.IntegerField(required=False, min_value=1)
    reporter_name = LineField(label=_("Full name"), required=False, max_length=50)
    reporter_phone = LineField(label=_("Phone"), required=False, max_length=20)

    def __init__(self, *args, channels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = list(channels)
        self.fields["channel"].initial = channels[0][0] if channels else None
        self.fields["reporter_phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})

    def clean(self):
        data = super().clean()
        if not data.get("reporter") and not data.get("reporter_name", "").strip():
            self.add_error("reporter_name", _("Choose a resident from the registry, or type the person's name."))
        if not data.get("reporter") and data.get("place") == PLACE_HOUSEHOLD:
            self.add_error("place", _("For someone not in the registry, pick the place on the map or from the list."))
        return data


class RateForm(forms.Form):
    """The resident's rating after the appeal is handled."""

    resolved = forms.TypedChoiceField(
        label=_("Is the problem solved?"), coerce=lambda v: v == "1", widget=forms.RadioSelect,
        choices=[("1", _("Yes, solved")), ("0", _("No, not solved"))],
    )
    satisfaction = forms.ChoiceField(label=_("Are you satisfied?"), choices=Satisfaction.choices, widget=forms.RadioSelect)
    comment = BlockField(label=_("Anything to add?"), required=False, max_length=1000,
                         widget=forms.Textarea(attrs={"rows": 3}))
