"""The Open311 pages: a public description of the endpoint, and the key admin page (county administrators)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.core.text import LineField
from gongzhi.orgs import selectors as org_selectors
from gongzhi.orgs.models import NodeKind

from .. import open311, policies
from ..actions import open311 as clients
from ..models import Open311Client, Status

# A client's jurisdiction: the whole county, a subdistrict or a community.
JURISDICTION_KINDS = (NodeKind.COUNTY, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY)


def index(request):
    """What the endpoint offers and how our states read in Open311, for developers of client apps."""
    base = request.build_absolute_uri()
    rows = [(label, open311.open311_status(value)) for value, label in Status.choices]
    return render(request, "appeals/open311/index.html", {
        "base": base, "rows": rows, "can_admin": policies.can_admin(request.user),
        "max_results": open311.MAX_RESULTS, "max_km": open311.MAX_DISTANCE_KM,
    })


class KeyForm(forms.Form):
    name = LineField(label=gettext_lazy("Client application"), max_length=100)
    node = forms.ModelChoiceField(label=gettext_lazy("Jurisdiction"), queryset=None,
                                  help_text=gettext_lazy("Requests from this client are placed inside this area."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = org_selectors.nodes(user).filter(kind__in=JURISDICTION_KINDS).order_by("path")
        self.fields["node"].label_from_instance = lambda n: "\u3000" * (n.depth - 1) + n.name


def _admin(request):
    if not policies.can_admin(request.user):
        raise PermissionDenied(_("Only county administrators manage Open311 keys."))


@login_required
def keys(request):
    """Issue a key (shown once) and list the keys with who issued them and whether they are revoked."""
    _admin(request)
    form = KeyForm(request.POST or None, user=request.user)
    new_raw = None
    if request.method == "POST" and form.is_valid():
        try:
            _client, new_raw = clients.open311_client_create(
                name=form.cleaned_data["name"], node=form.cleaned_data["node"], by=request.user
            )
            form = KeyForm(user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
    keys = Open311Client.objects.select_related("node", "issued_by").order_by("-created_at", "-id")
    return render(request, "appeals/open311/keys.html", {"form": form, "new_raw": new_raw, "keys": keys})


@login_required
@require_POST
def revoke(request, pk: int):
    _admin(request)
    client = Open311Client.objects.select_related("node").filter(pk=pk).first()
    if client is None:
        raise Http404("not found")
    clients.open311_client_revoke(client=client, by=request.user)
    messages.success(request, _("Key revoked: %(name)s can no longer file requests.") % {"name": client.name})
    return redirect("open311:keys")
