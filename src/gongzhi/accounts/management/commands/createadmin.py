"""``gongzhi createadmin``: a superuser who is county administrator at the top of every organisation tree."""

from __future__ import annotations

import getpass
import os
import sys

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.actions import role_assign
from gongzhi.accounts.models import User
from gongzhi.core.access import SYSTEM, Role
from gongzhi.core import audit
from gongzhi.orgs.models import OrgNode

PASSWORD_ENV = "GONGZHI_ADMIN_PASSWORD"
# Checked here whatever AUTH_PASSWORD_VALIDATORS says: an administrator sees everyone's personal data.
VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


def check_password(password: str, username: str, display_name: str = "") -> None:
    """Raise CommandError with the reasons when the password is empty or weak."""
    if not password:
        raise CommandError(_("The password is empty."))
    try:
        password_validation.validate_password(
            password, User(username=username, display_name=display_name),
            password_validators=password_validation.get_password_validators(VALIDATORS),
        )
    except ValidationError as exc:
        raise CommandError(" ".join(exc.messages)) from None


@transaction.atomic
def admin_create(*, username: str, password: str, display_name: str = "") -> tuple[User, list[OrgNode]]:
    """The superuser, with the county_admin role at each root node; audited."""
    if User.objects.filter(username=username).exists():
        raise CommandError(_("A user named %(name)s already exists.") % {"name": username})
    user = User.objects.create_superuser(username=username, password=password, email="", display_name=display_name)
    roots = list(OrgNode.objects.get_root_nodes())
    for root in roots:
        role_assign(user=user, role=Role.COUNTY_ADMIN, node=root, by=SYSTEM)
    audit.record(actor=None, action="user.create_admin", obj=user,
                 changes={"username": username, "superuser": True, "roots": [r.name for r in roots]})
    return user, roots


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a plain string, in the active language
        return _(
            "Create an administrator: a superuser with the county administrator role at the top of every tree. "
            "Asks for the details, or takes --username and --password (or the GONGZHI_ADMIN_PASSWORD "
            "environment variable) in scripts."
        )

    def add_arguments(self, parser):
        parser.add_argument("--username", help=gettext_lazy("User name of the new administrator."))
        parser.add_argument("--password", help=gettext_lazy(
            "Password (visible in the process list: prefer GONGZHI_ADMIN_PASSWORD or the prompt)."))
        parser.add_argument("--display-name", default="", help=gettext_lazy("Name shown in the pages."))
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help=gettext_lazy("Never prompt; fail when something is missing."))

    def handle(self, *args, username=None, password=None, display_name="", interactive=True, **options):
        interactive = interactive and sys.stdin.isatty()
        username = (username or "").strip()
        password = password or os.environ.get(PASSWORD_ENV, "")
        if not username:
            if not interactive:
                raise CommandError(_("Give the user name with --username."))
            username = input(_("User name: ")).strip()
            if not display_name:
                display_name = input(_("Display name (optional): ")).strip()
        if not username:
            raise CommandError(_("The user name is empty."))
        if not password:
            if not interactive:
                raise CommandError(_("Give the password with --password or the %(env)s environment variable.")
                                   % {"env": PASSWORD_ENV})
            password = getpass.getpass(_("Password: "))
            if password != getpass.getpass(_("Password (again): ")):
                raise CommandError(_("The passwords do not match."))
        check_password(password, username, display_name)
        user, roots = admin_create(username=username, password=password, display_name=display_name)
        self.stdout.write(_("Created the administrator %(name)s.") % {"name": user.username})
        if roots:
            self.stdout.write(_("County administrator at: %(nodes)s") % {"nodes": "、".join(r.name for r in roots)})
        else:
            self.stdout.write(_("There is no organisation tree yet; as a superuser, %(name)s can start one.")
                              % {"name": user.username})
