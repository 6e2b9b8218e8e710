"""Translations: the zh-Hans catalog is complete and compiled, it covers every msgid in the code, and pages
are Chinese by default and English once the user switches."""

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

import gongzhi
from gongzhi.core.access import Role
from gongzhi.orgs.models import CareGroup

SRC = Path(gongzhi.__file__).resolve().parent
LOCALE = SRC / "locale"
LANGUAGES = ["zh_Hans", "en"]
# printf-style placeholders as Python and Django's blocktrans write them: %(name)s, %(seconds).1f, %s, %d.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?[-#0 +]*(?:\d+)?(?:\.\d+)?(?P<type>[diouxXeEfFgGcrs%])")


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def placeholders(text: str) -> tuple[list[str], list[str]]:
    """Named placeholders (in any order: Chinese may reorder them) and positional ones (in order)."""
    named, positional = [], []
    for m in PLACEHOLDER.finditer(text):
        if m.group("type") == "%":
            continue
        if m.group("name"):
            named.append(m.group(0))
        else:
            positional.append(m.group(0))
    return sorted(named), positional


def key(entry) -> tuple:
    return entry.msgctxt, entry.msgid, entry.msgid_plural


def test_zh_hans_catalog_is_complete_and_keeps_placeholders():
    po = polib.pofile(str(po_path("zh_Hans")))
    assert not po.metadata_is_fuzzy, "a fuzzy header is dropped by msgfmt, and Chinese plurals with it"
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert "charset=UTF-8" in po.metadata["Content-Type"]
    assert len(po) > 500  # the catalog holds the whole UI, not a sample
    problems = []
    for entry in po:
        label = f"{entry.msgctxt + ' | ' if entry.msgctxt else ''}{entry.msgid!r}"
        if entry.fuzzy:
            problems.append(f"fuzzy: {label}")
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if entry.msgid_plural and sorted(entry.msgstr_plural) != [0]:
            problems.append(f"Chinese has one plural form: {label}")
        for text in translations:
            if not text.strip():
                problems.append(f"untranslated: {label}")
            elif placeholders(text) != placeholders(entry.msgid_plural or entry.msgid):
                problems.append(f"placeholders differ: {label} -> {text!r}")
    assert problems == []


def _entries(catalog) -> dict:
    """Translated entries as {(context, msgid, plural): msgstr or plural forms}, the header left out."""
    out = {}
    for entry in catalog:
        if not entry.msgid:
            continue
        if entry.msgid_plural:
            forms = tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
            if any(forms):
                out[key(entry)] = forms
        elif entry.msgstr:
            out[key(entry)] = entry.msgstr
    return out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_mo_files_are_compiled_from_the_po_files(lang):
    po = polib.pofile(str(po_path(lang)))
    mo = polib.mofile(str(po_path(lang).with_suffix(".mo")))
    assert _entries(mo) == _entries([e for e in po if not e.fuzzy and not e.obsolete]), (
        f"{lang}: django.mo is stale: run `gongzhi compilemessages` (or msgfmt) and commit it"
    )
    assert mo.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


def test_every_msgid_in_the_code_is_in_both_catalogs(tmp_path, settings, monkeypatch):
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("GNU gettext (xgettext) is missing: CI must check the catalogs against the code")
        pytest.skip("GNU gettext (xgettext) is not installed, so msgids cannot be extracted from the code here")
    # Extract from a copy: makemessages writes work files next to the templates and a catalog of its own.
    copy = tmp_path / "gongzhi"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("locale", "static", "__pycache__", "*.json"))
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [str(copy / "locale")]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], keep_pot=True, verbosity=0)
    in_code = {key(e) for e in polib.pofile(str(copy / "locale" / "django.pot")) if e.msgid}
    assert len(in_code) > 500
    for lang in LANGUAGES:
        in_catalog = {key(e) for e in polib.pofile(str(po_path(lang)))}
        missing = sorted(in_code - in_catalog, key=str)
        assert missing == [], (
            f"{lang}: msgids missing from the catalog; run `gongzhi makemessages -l zh_Hans -l en` in src/gongzhi, "
            f"translate them and compile: {missing[:20]}"
        )


def test_care_group_disabled_is_not_djangos_disabled():
    with translation.override("zh-hans"):
        assert str(CareGroup.DISABLED.label) == "残疾人"
        assert translation.gettext("Disabled") == "禁用"  # Django's own word (auth) keeps its meaning
        # One plural form: the same Chinese for 1 and for many, placeholders filled in.
        assert translation.ngettext("%(n)s resident", "%(n)s residents", 1) % {"n": 1} == "1 名居民"
        assert translation.ngettext("%(n)s resident", "%(n)s residents", 7) % {"n": 7} == "7 名居民"
    with translation.override("en"):
        assert str(CareGroup.DISABLED.label) == "Disabled"
        assert translation.ngettext("%(n)s resident", "%(n)s residents", 7) % {"n": 7} == "7 residents"


def test_pages_are_chinese_by_default_and_english_after_switching(client, tree):
    body = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "登录" in body and "用户名" in body and "密码" in body
    assert "Log in" not in body and "Password" not in body
    assert 'lang="en">English</button>' in body  # the switch names the other language in that language

    client.force_login(tree.users[Role.COUNTY_ADMIN])
    body = client.get(reverse("orgs:residents")).content.decode()
    assert "独居老人" in body and "高龄" in body and "留守儿童" in body  # the residents' tags
    assert "残疾人" in body and "禁用" not in body  # the care-group filter lists every group
    assert "户籍" in body and "Registered" not in body

    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("orgs:residents")})
    assert response.status_code == 302
    body = client.get(reverse("orgs:residents")).content.decode()
    assert '<html lang="en">' in body
    assert "Elderly living alone" in body and "Left-behind child" in body and "Disabled" in body
    assert "Residency type" in body and "Registered (户籍)" in body
    assert "独居老人" not in body and "残疾人" not in body and "居住类型" not in body

    client.logout()  # the test client drops its cookies, the language cookie with them
    client.post(reverse("set_language"), {"language": "en", "next": reverse("accounts:login")})
    body = client.get(reverse("accounts:login")).content.decode()
    assert "Log in" in body and "Password" in body and "登录" not in body
    assert 'lang="zh-hans">简体中文</button>' in body


def test_audit_log_reads_in_the_users_words(client, tree):
    """The trail stores field names and choice values (code); the page shows their labels."""
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    body = client.get(reverse("core:audit")).content.decode()
    assert "<b>姓名</b>: 王小明" in body and "<b>特殊群体</b>: 留守儿童" in body
    assert "<b>角色</b>: 县级管理员" in body and "<b>层级</b>: 街道（乡镇）" in body
    assert "left_behind_child" not in body and "county_admin" not in body and "<b>kind</b>" not in body
    assert "系统" in body and ">system<" not in body  # the fixture's writes have no actor
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("core:audit")).content.decode()
    assert "<b>Care groups</b>: Left-behind child" in body and "<b>role</b>: County administrator" in body


class _VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes and placeholder / aria-label / title / data-label
    attributes, leaving out scripts, code and the language switcher's "English"."""

    SKIPPED = {"script", "style", "code", "pre"}
    ATTRS = ("placeholder", "aria-label", "title", "data-label", "alt")

    def __init__(self):
        super().__init__()
        self.skipping: list[str] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.skipping or tag in self.SKIPPED or "lang" in attrs and tag != "html" or "whoami" in (attrs.get("class") or ""):
            self.skipping.append(tag)
            return
        self.chunks += [attrs[a] for a in self.ATTRS if attrs.get(a)]

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.chunks.append(data)


# English words a Chinese page may still show: product and format names.
ALLOWED_LATIN = {"API", "Excel", "xlsx", "Authorization", "Bearer", "token", "MB"}


def _english_words(html: str) -> set[str]:
    parser = _VisibleText()
    parser.feed(html)
    return set(re.findall(r"[A-Za-z]{2,}", " ".join(parser.chunks))) - ALLOWED_LATIN


def test_staff_pages_show_no_english_by_default(client, tree):
    """Catches a string outside gettext or missing from the catalog on the pages people use every day."""
    pages = {
        "tree": reverse("orgs:tree"),
        "node": reverse("orgs:node", args=[tree.county.pk]),
        "grid": reverse("orgs:node", args=[tree.grid_a1.pk]),
        "compound": reverse("orgs:compound", args=[tree.compound_a.pk]),
        "building": reverse("orgs:building", args=[tree.building_a.pk]),
        "household": reverse("orgs:household", args=[tree.household_a.pk]),
        "household_move": reverse("orgs:household_move", args=[tree.household_a.pk]),
        "resident": reverse("orgs:resident", args=[tree.resident_a.pk]),
        "resident_edit": reverse("orgs:resident_edit", args=[tree.resident_a.pk]),
        "resident_move": reverse("orgs:resident_move", args=[tree.resident_a.pk]) + "?q=城东",
        "grid_split": reverse("orgs:grid_split", args=[tree.grid_a1.pk]),
        "residents": reverse("orgs:residents"),
        "search": reverse("orgs:search") + "?q=滨河小区",
        "mobile": reverse("orgs:mobile"),
        "party": reverse("orgs:party"),
        "party_org": reverse("orgs:party_org", args=[tree.branch_a.pk]),
        "units": reverse("orgs:units"),
        "unit": reverse("orgs:unit", args=[tree.partner.pk]),
        "excel": reverse("excel:index"),
        "account": reverse("accounts:me"),
        "password": reverse("accounts:password_change"),
        "locks": reverse("accounts:locks"),
        "token_admin": reverse("accounts:token_admin"),
    }
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    english = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        if words := _english_words(response.content.decode()):
            english[name] = sorted(words)
    client.force_login(tree.users[Role.RESIDENT])
    if words := _english_words(client.get(reverse("orgs:mine")).content.decode()):
        english["mine"] = sorted(words)
    if words := _english_words(client.get(reverse("accounts:me")).content.decode()):
        english["resident account"] = sorted(words)
    client.logout()
    if words := _english_words(client.get(reverse("accounts:login")).content.decode()):
        english["login"] = sorted(words)
    assert english == {}
