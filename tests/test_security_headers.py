"""The Content Security Policy on every response (pages, htmx partials, error pages, the API), the error pages
(phone width, the site's look, no script), and the templates kept free of what the policy forbids."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path, reverse

from gongzhi import urls as site_urls
from gongzhi.core.access import Role
from gongzhi.core.csp import ContentSecurityPolicyMiddleware, build_policy

SRC = Path(__file__).resolve().parents[1] / "src" / "gongzhi"
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def boom(request):
    raise RuntimeError("a bug in a view")


# This module doubles as a URL conf: the site's URLs and one view that fails, for the 500 page.
urlpatterns = [path("boom/", boom), *site_urls.urlpatterns]


def directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.status_code} {response.get('Content-Type')}: no Content-Security-Policy"
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_strict(response):
    d = directives(response)
    for name in ("default-src", "script-src", "style-src", "img-src", "connect-src", "font-src"):
        assert d[name] == ["'self'"], (name, d[name])
    assert d["object-src"] == ["'none'"] and d["frame-ancestors"] == ["'none'"]
    assert d["base-uri"] == ["'self'"] and d["form-action"] == ["'self'"]
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "*" not in header


def test_the_policy_is_on_pages_partials_and_the_api(client, tree):
    assert_strict(client.get(reverse("accounts:login")))
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    assert_strict(client.get(reverse("home"), follow=True))
    assert_strict(client.get(reverse("dashboards:appeals")))
    partial = client.get(reverse("orgs:tree_children", args=[tree.county.pk]), headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert_strict(partial)
    assert_strict(client.get(reverse("dashboards:appeals_data")))
    assert_strict(client.get("/api/v1/nodes"))


def error_page(response, status: int) -> str:
    assert response.status_code == status
    assert_strict(response)
    body = response.content.decode()
    assert VIEWPORT in body, f"{status}: no mobile viewport"
    assert 'data-testid="error-page"' in body and f'data-status="{status}"' in body
    assert "/static/gongzhi/app.css" in body  # the site's stylesheet: its top bar and card
    assert "<script" not in body and "style=" not in body
    return body


def test_error_pages_fit_a_phone_and_carry_the_policy(client, tree, settings):
    settings.LANGUAGE_CODE = "en"
    # 404: a missing page, and an object out of the user's area (which answers the same).
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    missing = error_page(client.get("/no/such/page/"), 404)
    assert "Page not found" in missing
    out_of_area = error_page(client.get(reverse("orgs:node", args=[tree.comm_b.pk])), 404)
    assert out_of_area == missing
    # 403: a page the role does not include.
    client.force_login(tree.users[Role.RESIDENT])
    assert "No access" in error_page(client.get(reverse("dashboards:appeals")), 403)
    # 403 from the CSRF check: a form posted without its token.
    strict = Client(enforce_csrf_checks=True)
    expired = error_page(strict.post(reverse("accounts:login"), {"username": "x", "password": "y"}), 403)
    assert "The form has expired" in expired
    # 400: a request for a host the site does not serve.
    assert "Bad request" in error_page(client.get("/", headers={"host": "evil.example"}), 400)
    # 500: a bug in a view, rendered without any context.
    settings.ROOT_URLCONF = __name__
    failing = Client(raise_request_exception=False)
    assert "Something went wrong" in error_page(failing.get("/boom/"), 500)


def test_error_pages_in_chinese(client, tree):
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    body = error_page(client.get("/no/such/page/"), 404)
    assert '<html lang="zh-hans">' in body and "页面不存在" in body and "返回首页" in body


def test_debug_error_pages_go_without_the_policy(rf, settings):
    """Django's technical error pages (DEBUG only) use inline style and script of their own."""
    from django.http import HttpResponse, HttpResponseNotFound

    settings.DEBUG = True
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponseNotFound("technical 404"))
    assert "Content-Security-Policy" not in middleware(rf.get("/"))
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse("a page"))
    assert "Content-Security-Policy" in middleware(rf.get("/"))


def test_a_view_may_set_its_own_policy(rf):
    from django.http import HttpResponse

    def view(request):
        response = HttpResponse("embedded")
        response["Content-Security-Policy"] = "frame-ancestors 'self'"
        return response

    assert ContentSecurityPolicyMiddleware(view)(rf.get("/"))["Content-Security-Policy"] == "frame-ancestors 'self'"


def test_build_policy():
    assert build_policy({"default-src": ["'self'"], "img-src": ["'self'", "data:"], "upgrade-insecure-requests": True,
                         "report-uri": None}) == "default-src 'self'; img-src 'self' data:; upgrade-insecure-requests"


# --- the templates hold nothing the policy would block ----------------------------------------------------

FORBIDDEN = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "on...= event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style[\s>]", re.I), "<style> element"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on attribute (needs eval)"),
    (re.compile(r"\shx-vars\s*=|hx-vals\s*=\s*['\"]\s*js:", re.I), "hx-vars / js: hx-vals (need eval)"),
]


def project_templates() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.html") if "templates" in p.parts)


def test_templates_have_no_inline_script_handler_or_style():
    templates = project_templates()
    assert len(templates) > 50
    problems = []
    for template in templates:
        text = template.read_text()
        for pattern, what in FORBIDDEN:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{template.relative_to(SRC)}:{line}: {what}: {match.group(0)[:80]}")
    assert problems == []


def test_the_lint_finds_what_it_looks_for():
    samples = {
        '<script>alert(1)</script>': "inline <script>",
        '<button onclick="go()">': "on...= event handler attribute",
        '<form class="x"\n  onsubmit="return confirm(1)">': "on...= event handler attribute",
        '<a href="javascript:void(0)">': "javascript: URL",
        '<div class="a" style="--indent: 2">': "style attribute",
        '<div hx-on:click="x()">': "hx-on attribute (needs eval)",
    }
    for sample, what in samples.items():
        assert [w for pattern, w in FORBIDDEN if pattern.search(sample)] == [what], sample
    for fine in ('<script src="/static/a.js" defer></script>', '<script type="module" src="/static/b.js"></script>',
                 '<button data-confirm="Delete?">', '<p>one=1</p>'):
        assert not [w for pattern, w in FORBIDDEN if pattern.search(fine)], fine


# --- the project's scripts put no data in as HTML ------------------------------------------------------------

JS_FORBIDDEN = [
    (re.compile(r"\.(?:inner|outer)HTML\s*=|insertAdjacentHTML|document\.write"), "HTML from a string"),
    (re.compile(r"\beval\s*\(|new\s+Function\s*\(|set(?:Timeout|Interval)\s*\(\s*[\"'`]"), "eval (forbidden by the CSP)"),
    (re.compile(r"setAttribute\(\s*[\"'](?:on\w+|style)[\"']"), "handler or style attribute (forbidden by the CSP)"),
    # ECharts puts a formatter's string in as HTML: tooltips return DOM nodes (appeals.js tip()).
    (re.compile(r"formatter\s*:\s*(?:\([^)]*\)|\w+)\s*=>\s*[\"'`]"), "an ECharts formatter returning an HTML string"),
]


def test_project_scripts_build_no_html_from_strings():
    scripts = sorted(p for p in SRC.rglob("*.js") if "static" in p.parts)
    assert {p.name for p in scripts} >= {"appeals.js", "appeals-m.js", "site.js", "large-font.js"}
    problems = []
    for script in scripts:
        text = script.read_text()
        for pattern, what in JS_FORBIDDEN:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{script.relative_to(SRC)}:{line}: {what}: {match.group(0)[:80]}")
    assert problems == []


def test_the_script_lint_finds_what_it_looks_for():
    for sample in ('box.innerHTML = name;', 'el.insertAdjacentHTML("beforeend", x)', 'eval(code)',
                   'b.setAttribute("onclick", "go()")', 'tooltip: { formatter: (p) => `${p.name}<br>` }',
                   'formatter: p => "<b>" + p.name'):
        assert [w for pattern, w in JS_FORBIDDEN if pattern.search(sample)], sample
    for fine in ('label: { formatter: "{b}\\n{c}" }', "formatter: (p) => tip(p.name, [])", 'node.textContent = name;',
                 'dot.style.backgroundColor = color;'):
        assert not [w for pattern, w in JS_FORBIDDEN if pattern.search(fine)], fine
