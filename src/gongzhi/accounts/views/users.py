"""Staff accounts: the list of the accounts one manages, an account's page (roles with their history, give and
withdraw a role, reset the password, disable and enable, open work), making an account, the roster import and
export, the activation page of imported accounts, and a party member's account. Thin: the rules are in
``policies``, the writes in ``actions``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from gongzhi.core import pages
from gongzhi.core.excel import XLSX_CONTENT_TYPE
from gongzhi.orgs.models import OrgNode, Unit

from .. import actions, policies, roster, selectors, throttle
from ..forms import (
    ActivateForm,
    PartyMemberAccountForm,
    ReasonForm,
    RoleAssignForm,
    RosterExportForm,
    RosterUploadForm,
    UserCreateForm,
    UserFilterForm,
    node_choices,
)

USERS_PER_PAGE = 50


def _need_manager(user):
    if not policies.can_manage_users(user):
        raise PermissionDenied


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def _node_in_scope(user, pk) -> OrgNode:
    """A node where ``user`` manages users; Http404 for any other id."""
    node = selectors.manage_nodes(user).filter(pk=pk).first()
    if node is None:
        raise Http404("not found")
    return node


def _role_target(user, data) -> tuple[str, OrgNode | None, Unit | None]:
    """The role, node and unit a valid role form names; a node or unit outside the manager's area is None
    (the action then refuses, as for a place beyond them)."""
    node = selectors.manage_nodes(user).filter(pk=data["node"]).first()
    unit = selectors.manage_units(user).filter(pk=data["unit"]).first() if data.get("unit") else None
    return data["role"], node, unit


@login_required
@require_GET
def user_list(request):
    """The accounts the viewer manages (a county administrator: every staff account), with their roles;
    filtered by place, role, status and a search on name or phone, paged."""
    user = request.user
    _need_manager(user)
    form = UserFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    node = None
    if filters.get("node"):
        node = selectors.manage_nodes(user).filter(pk=filters["node"]).first()
    role = {"": "staff", "all": ""}.get(filters.get("role") or "", filters.get("role"))  # staff unless asked
    qs = selectors.users(user, q=filters.get("q") or "", node=node, role=role, status=filters.get("status") or "")
    page = pages.offset_page(request, qs, USERS_PER_PAGE)
    return render(request, "accounts/users/list.html", {
        "form": form, "page": page, "node": node,
        "node_options": pages.options_html(node_choices(user), str(filters.get("node") or "")),
        "may_create": bool(policies.assignable_roles(user)),
    })


@login_required
@never_cache
def user_new(request):
    """Make a staff account with its first role; its one-time password is shown once, on the answer."""
    user = request.user
    _need_manager(user)
    form = UserCreateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        role, node, unit = _role_target(user, form.cleaned_data)
        try:
            created, raw = actions.user_create(by=user, display_name=form.cleaned_data["display_name"],
                                               phone=form.cleaned_data["phone"], role=role, node=node, unit=unit)
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
        else:
            return _no_store(render(request, "accounts/users/created.html", {"target": created, "password": raw}))
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/users/new.html", {"form": form}, status=status)


def _form_errors(form, exc):
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        pages.form_errors(form, exc)


def _detail(request, target, *, status=200, **extra):
    user = request.user
    context = {
        "target": target,
        "history": selectors.role_history(target),
        "assign_form": RoleAssignForm(user=user),
        "reason_form": ReasonForm(),
        "may_change": policies.can_change_account(user, target),
        "withdrawable": {a.pk for a in target.role_assignments.filter(is_active=True).select_related("unit", "user")
                         if policies.can_withdraw(user, a)},
        "open_work": selectors.open_work(target),
        "waiting": actions.needs_activation(target),
        **extra,
    }
    return _no_store(render(request, "accounts/users/detail.html", context, status=status))


@login_required
@require_GET
def user_detail(request, pk: int):
    _need_manager(request.user)
    return _detail(request, selectors.user_get(request.user, pk))


@login_required
@require_POST
def user_role_assign(request, pk: int):
    user = request.user
    _need_manager(user)
    target = selectors.user_get(user, pk)
    form = RoleAssignForm(request.POST, user=user)
    if form.is_valid():
        role, node, unit = _role_target(user, form.cleaned_data)
        try:
            actions.role_assign(user=target, role=role, node=node, unit=unit, by=user)
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Role given."))
            return redirect("accounts:user_detail", pk=target.pk)
    return _detail(request, target, assign_form=form, status=400)


@login_required
@require_POST
def user_role_withdraw(request, pk: int, role_pk: int):
    user = request.user
    _need_manager(user)
    target = selectors.user_get(user, pk)
    assignment = selectors.assignment_get(user, target, role_pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            actions.role_withdraw(assignment=assignment, by=user, reason=form.cleaned_data["reason"])
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Role withdrawn."))
            return redirect("accounts:user_detail", pk=target.pk)
    return _detail(request, target, reason_form=form, withdraw_pk=assignment.pk, status=400)


@login_required
@require_POST
def user_password_reset(request, pk: int):
    user = request.user
    _need_manager(user)
    target = selectors.user_get(user, pk)
    raw = actions.password_reset(user=target, by=user)
    return _detail(request, target, new_password=raw)


@login_required
@require_POST
def user_disable(request, pk: int):
    user = request.user
    _need_manager(user)
    target = selectors.user_get(user, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            work = actions.user_disable(user=target, by=user, reason=form.cleaned_data["reason"])
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The account is disabled."))
            return _detail(request, target, disabled_now=True, open_work=work)
    return _detail(request, target, disable_form=form, status=400)


@login_required
@require_POST
def user_enable(request, pk: int):
    user = request.user
    _need_manager(user)
    target = selectors.user_get(user, pk)
    actions.user_enable(user=target, by=user)
    messages.success(request, _("The account is enabled again."))
    return redirect("accounts:user_detail", pk=target.pk)


# --- the roster in Excel ------------------------------------------------------------------------------------


def _roster_page(request, upload_form=None, export_form=None, status=200):
    user = request.user
    return render(request, "accounts/users/roster.html", {
        "upload_form": upload_form or RosterUploadForm(user=user),
        "export_form": export_form or RosterExportForm(user=user),
        "jobs": roster.jobs(user)[:10],
        "columns": roster.COLUMNS,
    }, status=status)


@login_required
@require_GET
def roster_index(request):
    _need_manager(request.user)
    return _roster_page(request)


@login_required
@require_GET
def roster_template(request):
    _need_manager(request.user)
    response = HttpResponse(roster.template_bytes(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, "人员导入模板.xlsx")
    return response


@login_required
@require_POST
def roster_upload(request):
    user = request.user
    _need_manager(user)
    form = RosterUploadForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return _roster_page(request, upload_form=form, status=400)
    node = _node_in_scope(user, form.cleaned_data["node"])
    try:
        job = roster.import_start(by=user, node=node, upload=form.cleaned_data["file"], language=get_language())
    except (ValidationError, PermissionDenied) as exc:
        form.add_error("file", exc.messages[0] if isinstance(exc, ValidationError) else str(exc))
        return _roster_page(request, upload_form=form, status=400)
    return redirect("accounts:roster_job", pk=job.pk)


def _job_context(request, job):
    waiting = selectors.waiting_activation(selectors.managed_users(request.user).filter(import_job=job)).count()
    return {"job": job, "waiting": waiting}


@login_required
@require_GET
def roster_job(request, pk: int):
    job = roster.job_get(request.user, pk)
    return render(request, "accounts/users/job.html", _job_context(request, job))


@login_required
@require_GET
def roster_job_progress(request, pk: int):
    job = roster.job_get(request.user, pk)
    return render(request, "accounts/users/_job_progress.html", _job_context(request, job))


@login_required
@require_GET
def roster_job_errors(request, pk: int):
    job = roster.job_get(request.user, pk)
    if not job.error_report:
        raise Http404("not found")
    return FileResponse(job.error_report.open("rb"), as_attachment=True, content_type=XLSX_CONTENT_TYPE,
                        filename=f"人员导入错误-{job.pk}.xlsx")


@login_required
@require_POST
def roster_codes(request, pk: int):
    """New activation codes for the accounts of an import still waiting, as a sheet to print (shown once)."""
    job = roster.job_get(request.user, pk)
    if job.status != job.Status.SUCCEEDED:
        raise Http404("not found")
    data, count = roster.activation_sheet(job=job, by=request.user,
                                          activate_url=request.build_absolute_uri(reverse("accounts:activate")))
    if not count:
        messages.info(request, _("Every account of this import is activated already."))
        return redirect("accounts:roster_job", pk=job.pk)
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"激活码-{job.pk}.xlsx")
    return _no_store(response)


@login_required
@require_POST
def roster_export(request):
    user = request.user
    _need_manager(user)
    form = RosterExportForm(request.POST, user=user)
    if not form.is_valid():
        return _roster_page(request, export_form=form, status=400)
    node = _node_in_scope(user, form.cleaned_data["node"])
    data, _count = roster.export_bytes(by=user, node=node)
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"人员名册-{node.name}.xlsx")
    return _no_store(response)


# --- activation (anonymous) -----------------------------------------------------------------------------------


@never_cache
def activate(request):
    """Someone whose account was imported enters their phone, the code from their sheet and a password; the
    attempts count towards the login throttle of that phone and address, like passwords."""
    form = ActivateForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        lock = throttle.reserve(request, username)
        if lock is not None:
            form.add_error(None, lock.message())
            status = 429
        else:
            try:
                user = actions.account_activate(username=username, code=form.cleaned_data["code"],
                                                new_password=form.cleaned_data["new_password1"])
            except ValidationError as exc:
                if getattr(exc, "error_dict", None) and "new_password" in exc.error_dict:
                    throttle.succeeded(request, username)  # the code was right; only the password was weak
                    for message in exc.message_dict["new_password"]:
                        form.add_error("new_password1", message)
                else:
                    form.add_error(None, exc.messages[0])
            else:
                throttle.succeeded(request, username)
                login(request, user, backend="gongzhi.accounts.backends.ThrottledBackend")
                messages.success(request, _("Your account is active. Welcome!"))
                return redirect("home")
        status = status if status != 200 else 400
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/activate.html", {"form": form}, status=status)


# --- a party member's account ---------------------------------------------------------------------------------


@login_required
@never_cache
def party_member_account(request, pk: int):
    """The branch's staff link a party member's existing account, or make one (its one-time password shown once)."""
    member = selectors.party_member_get(request.user, pk)
    form = PartyMemberAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account, raw = actions.party_member_account(member=member, by=request.user, phone=form.cleaned_data["phone"])
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
        else:
            return _no_store(render(request, "accounts/users/party_member.html",
                                    {"member": member, "account": account, "password": raw}))
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/users/party_member.html", {"member": member, "form": form}, status=status)
