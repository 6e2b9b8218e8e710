"""Users, their role assignments at org nodes, and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.orgs.models import PATH_LENGTH, OrgNode, Unit

from gongzhi.core.access import ROLE_PERMS, Role


class User(AbstractUser):
    """An account. What it may see and do comes only from its role assignments."""

    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    # Set for an account made or reset by someone else: every page sends them to the password change until
    # they choose their own (``accounts.middleware``), and the API refuses them meanwhile.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(_("reason disabled"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "self", verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    import_job = models.ForeignKey(
        "core.ImportJob", verbose_name=_("imported by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.username

    @cached_property
    def active_assignments(self) -> list[RoleAssignment]:
        return list(self.role_assignments.filter(is_active=True).select_related("node", "unit"))

    def paths_with(self, perm: str) -> list[str]:
        """Org paths of the subtrees where this user holds ``perm``, nested paths folded away."""
        if not self.is_active:
            return []
        paths = sorted({a.org_path for a in self.active_assignments if perm in ROLE_PERMS.get(a.role, ())})
        folded: list[str] = []
        for p in paths:
            if not any(p.startswith(q) for q in folded):
                folded.append(p)
        return folded

    def has_role(self, *roles: str) -> bool:
        return any(a.role in roles for a in self.active_assignments)

    def can(self, perm: str, org_path: str | None = None) -> bool:
        """True when the user holds ``perm`` at all (no path) or over ``org_path``."""
        paths = self.paths_with(perm)
        if org_path is None:
            return bool(paths)
        return any(org_path.startswith(p) for p in paths)


class RoleAssignment(models.Model):
    """A user holding a role at an org node; the role's permissions apply in that node's subtree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    node = models.ForeignKey(OrgNode, verbose_name=_("org node"), on_delete=models.PROTECT, related_name="role_assignments")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments",
        help_text=_("For department handlers and partner-unit contacts"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who gave the role, and when and why it was withdrawn: a withdrawn role stays, as history.
    assigned_by = models.ForeignKey(
        User, verbose_name=_("assigned by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        User, verbose_name=_("withdrawn by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    withdraw_reason = models.CharField(_("reason withdrawn"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            # One active assignment of a role at a node per user; withdrawn ones are kept beside it.
            models.UniqueConstraint(fields=["user", "role", "node"], condition=models.Q(is_active=True),
                                    name="roleassignment_unique_active"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.node}"


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for scripts and mobile clients; only its hash is stored. It stops working when it is
    revoked or when ``expires_at`` passes (None: never, only where ``API_TOKEN_ALLOW_UNLIMITED`` allows)."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("token status", "active")
        EXPIRED = "expired", pgettext_lazy("token status", "expired")
        REVOKED = "revoked", pgettext_lazy("token status", "revoked")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.prefix}… ({self.name})"

    @staticmethod
    def new_raw() -> str:
        return "gz_" + secrets.token_urlsafe(32)

    @staticmethod
    def hash_of(raw: str) -> str:
        return _token_hash(raw)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return self.Status.REVOKED
        return self.Status.EXPIRED if self.is_expired else self.Status.ACTIVE

    def get_status_display(self) -> str:
        return self.Status(self.status).label

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def touch(self):
        now = timezone.now()
        if not self.last_used_at or (now - self.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)


class LoginGate(models.Model):
    """A lock taken while one login attempt is counted, so that parallel attempts from one address are counted
    one after the other and none gets a password check past the limit (``accounts.throttle``). Addresses share
    a fixed number of slots, so the table never grows."""

    slot = models.PositiveSmallIntegerField(primary_key=True)

    class Meta:
        verbose_name = _("login gate")
        verbose_name_plural = _("login gates")


# --- joining by real name (``accounts.actions.join``) ------------------------------------------------------

# Join codes are typed from a door notice: 8 characters of an alphabet without look-alikes (no 0/O, 1/I/L),
# 31**8 = 8.5e11 codes, tried at most a few times an hour per address (``accounts.join_throttle``).
JOIN_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
JOIN_CODE_LENGTH = 8


class JoinCode(models.Model):
    """A code (and its QR code) that lets the people of one household, or one party member, make their
    account by real name. Only a keyed hash finds it; the code itself is kept encrypted so that its door
    notice can be printed again. A household code links each member of the household once (several members
    may each use it); a party member's code links that member once. It stops working when it expires, is
    revoked, or has nobody left to link."""

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("Household")
        PARTY_MEMBER = "party_member", _("Party member")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.HOUSEHOLD)
    household = models.ForeignKey(
        "orgs.Household", verbose_name=_("household"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="join_codes",
    )
    party_member = models.ForeignKey(
        "orgs.PartyMember", verbose_name=_("party member"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="join_codes",
    )
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    code_hash = models.CharField(max_length=40, unique=True, editable=False)
    code_enc = models.TextField(editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("accounts made"), default=0)

    class Meta:
        verbose_name = _("join code")
        verbose_name_plural = _("join codes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return str(self.household or self.party_member or self.pk)

    def reveal(self) -> str:
        from gongzhi.core.pii import decrypt

        return decrypt(self.code_enc)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired:
            return "expired"
        if self.kind == self.Kind.PARTY_MEMBER and self.uses:
            return "used"
        return "active"

    def get_status_display(self) -> str:
        return {
            "revoked": pgettext_lazy("join code", "revoked"), "expired": pgettext_lazy("join code", "expired"),
            "used": pgettext_lazy("join code", "used"), "active": pgettext_lazy("join code", "active"),
        }[self.status]


class JoinRequest(models.Model):
    """Someone asking for an account by real name: with a code that did not match a member of its household
    (or party member), or without a code, naming their compound, building and address. It waits for the grid
    worker, who links it to a member of the registry (the account is made then) or refuses it with a reason.
    A match with a code makes an ``active`` row at once (the record of that join). The password is kept as a
    hash until the decision, then dropped."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("join request", "waiting")
        ACTIVE = "active", pgettext_lazy("join request", "joined (matched)")
        APPROVED = "approved", pgettext_lazy("join request", "approved")
        REJECTED = "rejected", pgettext_lazy("join request", "rejected")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    code = models.ForeignKey(JoinCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    household = models.ForeignKey(
        "orgs.Household", verbose_name=_("household"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="join_requests",
    )
    party_member = models.ForeignKey(
        "orgs.PartyMember", verbose_name=_("party member"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="join_requests",
    )
    community = models.ForeignKey(
        OrgNode, verbose_name=_("community"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    compound = models.ForeignKey(
        "orgs.Compound", verbose_name=_("compound"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    building = models.ForeignKey(
        "orgs.Building", verbose_name=_("building"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    address = models.CharField(_("address given"), max_length=200, blank=True)
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_last4_enc = models.TextField(editable=False)
    phone_enc = models.TextField(editable=False)
    phone_hash = models.CharField(max_length=40, editable=False, db_index=True)
    phone_masked = models.CharField(_("phone"), max_length=20, editable=False)
    password_hash = models.CharField(max_length=128, editable=False, blank=True)
    existing_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("An account that exists already (someone who moved) and asks to be linked."),
    )
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    resident = models.ForeignKey(
        "orgs.Resident", verbose_name=_("resident"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="join_requests")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("join request")
        verbose_name_plural = _("join requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "org_path", "created_at"], name="joinrequest_status_path")]
        constraints = [
            # One waiting request per phone: asking again does not pile up requests.
            models.UniqueConstraint(fields=["phone_hash"], condition=models.Q(status="pending") & ~models.Q(phone_hash=""),
                                    name="joinrequest_one_pending_per_phone"),
        ]

    def __str__(self):
        return self.name


class JoinAttempt(models.Model):
    """One try at joining, for the throttle (per network address and per code); rows older than the window
    are removed as new ones come."""

    address = models.CharField(max_length=45, blank=True)
    code_hash = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("join attempt")
        verbose_name_plural = _("join attempts")
        indexes = [
            models.Index(fields=["address", "at"], name="joinattempt_address_at"),
            models.Index(fields=["code_hash", "at"], name="joinattempt_code_at"),
        ]


class PhoneCheck(models.Model):
    """A code sent by SMS to prove a phone number while joining, where the deployment asks for it
    (``GONGZHI_JOIN_VERIFY_PHONE``); only hashes are kept."""

    phone_hash = models.CharField(max_length=40, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("phone check")
        verbose_name_plural = _("phone checks")
class ActivationCode(models.Model):
    """A one-time code with which someone whose account was imported (no usable password) chooses their
    password. Only its SHA-256 is stored, like an API token's; it works once, until ``expires_at``."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="activation_codes")
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("activation code")
        verbose_name_plural = _("activation codes")

    def __str__(self):
        return f"{self.user} · {self.created_at:%Y-%m-%d}"

    # Crockford's base32 without I, L, O, U: nothing a printed sheet lets one misread.
    ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    LENGTH = 12  # 60 bits

    @classmethod
    def new_raw(cls) -> str:
        raw = "".join(secrets.choice(cls.ALPHABET) for _ in range(cls.LENGTH))
        return "-".join(raw[i:i + 4] for i in range(0, cls.LENGTH, 4))

    @classmethod
    def normalize(cls, typed: str) -> str:
        """What was typed, as stored: upper case, no separators, O read as 0 and I/L as 1."""
        text = "".join(ch for ch in (typed or "").upper() if ch.isalnum())
        return text.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))

    @classmethod
    def hash_of(cls, typed: str) -> str:
        return _token_hash(cls.normalize(typed))

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
