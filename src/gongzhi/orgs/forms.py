"""Registry page forms: resident-list filters, edits, moves, grid split and the personal-data reveal."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.orgs.permissions import Perm
from gongzhi.core.scoping import scoped
from gongzhi.core.text import LineField

from .models import CareGroup, Gender, Household, NodeKind, OrgNode, Relation, ResidencyType

_ANY = [("", _("Any"))]


def _optional_choice(label, choices):
    return forms.ChoiceField(label=label, required=False, choices=_ANY + list(choices))


class ResidentFilterForm(forms.Form):
    """The resident list's filters; ``node`` is an id checked against the scope by the view."""

    q = LineField(label=_("Search"), required=False, max_length=60)
    node = forms.IntegerField(label=_("Area"), required=False, min_value=1)
    care_group = _optional_choice(_("Care group"), CareGroup.choices)
    gender = _optional_choice(_("Gender"), Gender.choices)
    residency = _optional_choice(_("Residency type"), ResidencyType.choices)
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=150)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=150)

    def clean(self):
        data = super().clean()
        lo, hi = data.get("age_min"), data.get("age_max")
        if lo is not None and hi is not None and lo > hi:
            raise forms.ValidationError(_("'Age from' is greater than 'age to'."))
        return data


class ResidentEditForm(forms.Form):
    """What staff may change on a resident from the page (the ID number is changed by re-import only)."""

    phone = LineField(
        label=_("New phone number"), required=False, max_length=20,
        help_text=_("Leave empty to keep the current number."),
    )
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Relation.choices)
    residency = forms.ChoiceField(label=_("Residency type"), choices=ResidencyType.choices)
    ethnicity = LineField(label=_("Ethnicity"), required=False, max_length=20)
    care_groups = forms.MultipleChoiceField(
        label=_("Care groups"), required=False, choices=CareGroup.choices, widget=forms.CheckboxSelectMultiple
    )


def grid_choices(user, *, exclude_path: str = "") -> list[tuple[int, str]]:
    """Grids and micro-grids where the user may edit the registry, labelled "community › grid › micro-grid"."""
    qs = scoped(
        OrgNode.objects.filter(kind__in=[NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.MICRO_GRID]),
        user, Perm.REGISTRY_EDIT, field="path",
    ).order_by("path").only("id", "name", "kind", "path")
    names: dict[str, str] = {}
    out = []
    for node in qs:
        parent = names.get(node.path[: -OrgNode.steplen], "")
        label = f"{parent} › {node.name}" if parent else node.name
        names[node.path] = label
        if node.kind != NodeKind.COMMUNITY and node.path != exclude_path:
            out.append((node.pk, label))
    return out


class HouseholdMoveForm(forms.Form):
    to_node = forms.TypedChoiceField(label=_("Move to grid"), coerce=int)
    reason = LineField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args, user, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_node"].choices = [("", "---------")] + grid_choices(user, exclude_path=household.org_path)

    def clean_to_node(self):
        return OrgNode.objects.get(pk=self.cleaned_data["to_node"])


class ResidentMoveForm(forms.Form):
    """``q`` finds households by address; ``to_household`` must be one the mover may edit."""

    q = LineField(label=_("Find the new household by address"), required=False, max_length=100)
    to_household = forms.IntegerField(label=_("New household"), required=False)
    relation = forms.ChoiceField(label=_("Relation to the new head"), choices=Relation.choices, initial=Relation.OTHER)
    reason = LineField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_to_household(self):
        pk = self.cleaned_data.get("to_household")
        household = scoped(Household.objects.all(), self.user, Perm.REGISTRY_EDIT).filter(pk=pk).first() if pk else None
        if household is None:
            raise forms.ValidationError(_("Choose the new household from the search results."))
        return household


class GridSplitForm(forms.Form):
    new_name = LineField(label=_("Name of the new grid"), max_length=100)
    households = forms.ModelMultipleChoiceField(
        label=_("Households that go to the new grid"), queryset=Household.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    reason = LineField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["households"].queryset = households
        self.fields["households"].label_from_instance = lambda h: h.address


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", _("ID number")), ("phone", _("Phone"))])
    reason = LineField(label=_("Why do you need to see it?"), max_length=200)
