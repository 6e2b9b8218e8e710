from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.core.text import BlockField, LineField

from .models import WishChannel, WishKind, WishStatus


class WishForm(forms.Form):
    title = LineField(label=_("Wish"), max_length=60, help_text=_("In a few words: a school bag, a visit, a repair."))
    kind = forms.ChoiceField(label=_("Kind"), choices=WishKind.choices)
    channel = forms.ChoiceField(label=_("Where it came from"), choices=WishChannel.choices, initial=WishChannel.VISIT)
    description = BlockField(label=_("Details"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class OwnWishForm(forms.Form):
    title = LineField(label=_("My wish"), max_length=60, help_text=_("In a few words: a school bag, a visit, a repair."))
    kind = forms.ChoiceField(label=_("Kind"), choices=WishKind.choices)
    description = BlockField(label=_("Details"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class WishFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + list(WishStatus.choices))


class StepForm(forms.Form):
    note = BlockField(label=_("Note"), max_length=1000, required=False)
    for_name = LineField(label=_("Claimed by (offline)"), max_length=100, required=False)


class OrderForm(forms.Form):
    item = forms.TypedChoiceField(label=_("Service"), coerce=int)
    window_start = forms.DateTimeField(label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    window_end = forms.DateTimeField(label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    note = BlockField(label=_("What is needed"), max_length=1000, required=False,
                      widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(i.pk, i.name) for i in items]


class ServiceItemForm(forms.Form):
    name = LineField(label=_("Service"), max_length=60)
    description = BlockField(label=_("What it includes"), max_length=1000, required=False)


class OrderStepForm(forms.Form):
    to = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    evidence = BlockField(max_length=1000, required=False)
    hours = forms.DecimalField(required=False, min_value=0.1, max_value=24, decimal_places=1)
    satisfied = forms.TypedChoiceField(required=False, choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1",
                                       empty_value=None)
    comment = BlockField(max_length=1000, required=False)
