"""Writes of the appeal settings pages: categories with their form fields, deadline policies, routing rules.

Atomic, audited, keyword-only, like every action. Categories and policies are county-wide (county
administrators); routing rules belong to a node, so whoever holds APPEALS_ADMIN over it may change them.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.appeals.permissions import Perm
from gongzhi.core import audit
from gongzhi.orgs.models import NodeKind, OrgNode, Unit

from .. import policies
from ..models import Category, DeadlinePolicy, RoutingRule, TimeUnit

DATATYPES = ("string", "text", "number", "datetime", "singlevaluelist", "multivaluelist")
LIST_TYPES = ("singlevaluelist", "multivaluelist")
HANDLER_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.MICRO_GRID)

CATEGORY_FIELDS = ("code", "name", "description", "parent", "policy", "form_fields", "keywords", "is_active",
                   "sort_order")
POLICY_FIELDS = ("name", "response_amount", "response_unit", "resolve_amount", "resolve_unit", "due_soon_percent",
                 "reopen_on_unsatisfied", "max_reopens")
RULE_FIELDS = ("node", "category", "target", "target_node", "target_unit", "auto_dispatch")


def _require_admin(by):
    if not policies.can_admin(by):
        raise PermissionDenied(_("Only county administrators change appeal categories and deadline policies."))


def _require_routing(by, node: OrgNode):
    if not (by is not None and by.is_authenticated and by.can(Perm.APPEALS_ADMIN, node.path)):
        raise PermissionDenied(_("You may change routing rules only in your own area."))


def clean_form_fields(rows) -> list[dict]:
    """A category's form fields as Open311 attributes: unique codes, a known type, values for list types.
    Rows without a code and without anything else are blank rows of the form and are left out."""
    out, errors, codes = [], [], set()
    for row in rows:
        code = (row.get("code") or "").strip()
        description = (row.get("description") or "").strip()
        values = [v for v in (row.get("values") or []) if str(v.get("key", "")).strip()]
        if not code:
            if description or values:
                errors.append(_("Every form field needs a code."))
            continue
        if code in codes:
            errors.append(_("The code “%(code)s” is used twice.") % {"code": code})
        codes.add(code)
        datatype = row.get("datatype") or "string"
        if datatype not in DATATYPES:
            errors.append(_("Unknown type for “%(code)s”.") % {"code": code})
        field = {"code": code, "datatype": datatype, "required": bool(row.get("required")),
                 "description": description or code, "order": len(out) + 1}
        if datatype in LIST_TYPES:
            keys = [str(v["key"]).strip() for v in values]
            if not keys:
                errors.append(_("“%(code)s” is a list: give its values.") % {"code": code})
            elif len(set(keys)) != len(keys):
                errors.append(_("“%(code)s” has the same value key twice.") % {"code": code})
            field["values"] = [{"key": str(v["key"]).strip(), "name": str(v.get("name") or v["key"]).strip()}
                               for v in values]
        out.append(field)
    if errors:
        raise ValidationError(errors)
    return out


def rule_label(rule: RoutingRule) -> str:
    return f"{rule.node} · {rule.category or _('every category')}"


def _snapshot(obj, fields) -> dict:
    return {f: getattr(obj, f) for f in fields}


@transaction.atomic
def category_save(
    *, by, category: Category | None = None, code: str, name: str, description: str = "",
    parent: Category | None = None, policy: DeadlinePolicy | None = None, form_fields=(), keywords: str = "",
    is_active: bool = True, sort_order: int = 0,
) -> Category:
    """Create or change a category (an Open311 service) with its form fields and deadline policy."""
    _require_admin(by)
    code, name = (code or "").strip(), (name or "").strip()
    if not code or not name:
        raise ValidationError(_("A category needs a code and a name."))
    if Category.objects.filter(code=code).exclude(pk=category.pk if category else None).exists():
        raise ValidationError(_("Another category has the code “%(code)s”.") % {"code": code})
    ancestor, seen = parent, set()
    while ancestor is not None and ancestor.pk not in seen:
        if category is not None and ancestor.pk == category.pk:
            raise ValidationError(_("A category cannot sit under itself or under one of its subcategories."))
        seen.add(ancestor.pk)
        ancestor = ancestor.parent
    fields = clean_form_fields(form_fields)
    before = _snapshot(category, CATEGORY_FIELDS) if category else {}
    category = category or Category()
    values = {"code": code, "name": name, "description": (description or "").strip(), "parent": parent,
              "policy": policy, "form_fields": fields, "keywords": (keywords or "").strip(),
              "is_active": is_active, "sort_order": sort_order}
    for key, value in values.items():
        setattr(category, key, value)
    category.save()
    audit.record(actor=by, action="appeals.category_update" if before else "appeals.category_create",
                 obj=category, changes=audit.diff(before, values))
    return category


@transaction.atomic
def policy_save(*, by, policy: DeadlinePolicy | None = None, **values) -> DeadlinePolicy:
    """Create or change a deadline policy; appeals filed later use it (filed ones keep their deadlines)."""
    _require_admin(by)
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    name = (values.get("name") or "").strip()
    if not name:
        raise ValidationError(_("A policy needs a name."))
    if DeadlinePolicy.objects.filter(name=name).exclude(pk=policy.pk if policy else None).exists():
        raise ValidationError(_("Another policy is called “%(name)s”.") % {"name": name})
    for unit_field in ("response_unit", "resolve_unit"):
        if unit_field in values and values[unit_field] not in TimeUnit.values:
            raise ValidationError(_("Unknown time unit."))
    if not 0 <= int(values.get("due_soon_percent", 25)) <= 100:
        raise ValidationError(_("The due-soon share is a percentage from 0 to 100."))
    if int(values.get("resolve_amount", 1)) < 1 or int(values.get("response_amount", 1)) < 1:
        raise ValidationError(_("Deadlines are at least 1."))
    before = _snapshot(policy, POLICY_FIELDS) if policy else {}
    policy = policy or DeadlinePolicy()
    values["name"] = name
    for key, value in values.items():
        setattr(policy, key, value)
    policy.save()
    audit.record(actor=by, action="appeals.policy_update" if before else "appeals.policy_create", obj=policy,
                 changes=audit.diff(before, values))
    return policy


@transaction.atomic
def routing_rule_save(
    *, by, rule: RoutingRule | None = None, node: OrgNode, category: Category | None, target: str,
    target_node: OrgNode | None = None, target_unit: Unit | None = None, auto_dispatch: bool = False,
) -> RoutingRule:
    """Create or change the rule "(node, category) is handled by target", inherited down the tree."""
    _require_routing(by, node)
    if rule is not None:
        _require_routing(by, rule.node)
    if target not in RoutingRule.Target.values:
        raise ValidationError(_("Choose who handles these appeals."))
    if target == RoutingRule.Target.NODE:
        if target_node is None:
            raise ValidationError(_("Choose the org node that handles these appeals."))
        if target_node.kind not in HANDLER_KINDS:
            raise ValidationError(_("An appeal is handled by a subdistrict, community, grid or unit."))
    else:
        target_node = None
    if target == RoutingRule.Target.UNIT:
        if target_unit is None:
            raise ValidationError(_("Choose the department or partner unit that handles these appeals."))
    else:
        target_unit = None
    clash = RoutingRule.objects.filter(node=node, category=category).exclude(pk=rule.pk if rule else None)
    if clash.exists():
        raise ValidationError(_("There is a rule for this place and category already: change that one."))
    before = _snapshot(rule, RULE_FIELDS) if rule else {}
    rule = rule or RoutingRule()
    values = {"node": node, "category": category, "target": target, "target_node": target_node,
              "target_unit": target_unit, "auto_dispatch": auto_dispatch}
    for key, value in values.items():
        setattr(rule, key, value)
    rule.org_path = node.path
    rule.save()
    audit.record(actor=by, action="appeals.routing_update" if before else "appeals.routing_create", obj=rule,
                 object_repr=rule_label(rule), changes=audit.diff(before, values))
    return rule


@transaction.atomic
def routing_rule_delete(*, by, rule: RoutingRule) -> None:
    _require_routing(by, rule.node)
    audit.record(actor=by, action="appeals.routing_delete", obj=rule, object_repr=rule_label(rule),
                 changes={"node": str(rule.node), "category": str(rule.category or "*"), "target": rule.target})
    rule.delete()
