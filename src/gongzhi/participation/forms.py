from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.core.text import BlockField, LineField

from .models import WishChannel, WishKind, WishStatus


class WishForm(forms.Form):
    title = LineField(label=_("Wish"), max_length=60, help_text=_("In a few words: a school bag, a visit, a repair."))
    kind = forms.ChoiceField(label=_("Kind"), choices=WishKind.choices)
    channel = forms.ChoiceField(label=_("Where it came from"), choices=WishChannel.choices, initial=WishChannel.VISIT)
    description = BlockField(label=_("Details"), max_length=2000, required=False)


class OwnWishForm(forms.Form):
    title = LineField(label=_("My wish"), max_length=60, help_text=_("In a few words: a school bag, a visit, a repair."))
    kind = forms.ChoiceField(label=_("Kind"), choices=WishKind.choices)
    description = BlockField(label=_("Details"), max_length=2000, required=False)


class WishFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + list(WishStatus.choices))


class StepForm(forms.Form):
    note = BlockField(label=_("Note"), max_length=1000, required=False)
    for_name = LineField(label=_("Claimed by (offline)"), max_length=100, required=False)
