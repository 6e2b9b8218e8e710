"""The group-robot form: kind, address and secret (write-only), the area and unit covered, events."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.appeals.permissions import Perm
from gongzhi.core.scoping import scoped
from gongzhi.core.text import LineField
from gongzhi.orgs.models import NodeKind, OrgNode, Unit

from .models import WebhookEndpoint, WebhookKind


def area_choices(user) -> list[tuple[int, str]]:
    """County, subdistricts, communities and grids where the user manages robots, as "a › b › c"."""
    qs = scoped(
        OrgNode.objects.filter(kind__in=[NodeKind.COUNTY, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID]),
        user, Perm.APPEALS_ADMIN, field="path",
    ).order_by("path").only("id", "name", "path")
    names: dict[str, str] = {}
    out = []
    for node in qs:
        parent = names.get(node.path[: -OrgNode.steplen], "")
        names[node.path] = f"{parent} › {node.name}" if parent else node.name
        out.append((node.pk, names[node.path]))
    return out


class WebhookForm(forms.Form):
    name = LineField(label=_("Name"), max_length=100, help_text=_("e.g. the group chat's name"))
    kind = forms.ChoiceField(label=_("Robot"), choices=WebhookKind.choices)
    url = forms.URLField(label=_("Webhook address"), required=False, max_length=500, assume_scheme="https",
                         widget=forms.URLInput(attrs={"autocomplete": "off"}))
    secret = forms.CharField(
        label=_("Signing secret"), required=False, max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("DingTalk 加签 (SEC…) or Feishu 签名校验; WeCom robots have none."),
    )
    clear_secret = forms.BooleanField(label=_("Remove the stored secret"), required=False)
    node = forms.TypedChoiceField(label=_("Covers appeals under"), coerce=int)
    unit = forms.ModelChoiceField(label=_("Only appeals handled by"), queryset=Unit.objects.order_by("kind", "name"),
                                  required=False, empty_label=_("(any handler)"))
    on_dispatch = forms.BooleanField(label=_("New appeals dispatched"), required=False, initial=True)
    on_due_soon = forms.BooleanField(label=_("Due soon"), required=False, initial=True)
    on_overdue = forms.BooleanField(label=_("Overdue"), required=False, initial=True)
    on_supervise = forms.BooleanField(label=_("Supervised"), required=False, initial=True)
    is_active = forms.BooleanField(label=_("Send messages"), required=False, initial=True)

    def __init__(self, *args, user, endpoint: WebhookEndpoint | None = None, **kwargs):
        if endpoint is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": endpoint.name, "kind": endpoint.kind, "node": endpoint.node_id, "unit": endpoint.unit_id,
                "on_dispatch": endpoint.on_dispatch, "on_due_soon": endpoint.on_due_soon,
                "on_overdue": endpoint.on_overdue, "on_supervise": endpoint.on_supervise,
                "is_active": endpoint.is_active,
            }
        super().__init__(*args, **kwargs)
        self.endpoint = endpoint
        self.fields["node"].choices = area_choices(user)
        if endpoint is None:
            self.fields["url"].required = True
            del self.fields["clear_secret"]
        else:
            self.fields["url"].help_text = _("Stored: %(hint)s. Leave empty to keep it.") % {"hint": endpoint.url_hint}
            if endpoint.has_secret:
                self.fields["secret"].help_text = _("A secret is stored. Leave empty to keep it.")

    def clean_node(self):
        return OrgNode.objects.get(pk=self.cleaned_data["node"])
