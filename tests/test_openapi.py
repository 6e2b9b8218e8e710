"""The committed OpenAPI file matches the code; the schema and the offline docs page are served without login."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command

import gongzhi.api
from gongzhi.api import OPENAPI_FILE, openapi_text


def test_committed_schema_matches_code():
    if OPENAPI_FILE.read_text(encoding="utf-8") != openapi_text():
        pytest.fail(f"{OPENAPI_FILE} is out of date: run `gongzhi openapi` and commit the result.")


def test_schema_is_served_without_login(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    served = r.json()
    assert served == json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    assert "/api/v1/residents/{resident_id}/reveal" in served["paths"]
    assert set(served["components"]["securitySchemes"]) == {"BearerToken", "SessionCookie"}


def test_docs_page_works_offline(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert not re.search(r"https?://|(?:src|href)=[\"']//", html), "the docs page must not load anything from outside"
    assets = re.findall(r"(?:src|href)=[\"']([^\"']+)[\"']", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a shipped static file"
    settings_json = re.search(r'id="swagger-settings">(.*?)</script>', html, re.S).group(1)
    swagger = json.loads(settings_json)
    assert swagger["url"] == "/api/v1/openapi.json"
    assert swagger["validatorUrl"] is None  # the validator badge would call swagger.io


def test_openapi_command_writes_and_checks(tmp_path, monkeypatch):
    target = tmp_path / "openapi.json"
    monkeypatch.setattr(gongzhi.api, "OPENAPI_FILE", target)
    with pytest.raises(CommandError, match="gongzhi openapi"):
        call_command("openapi", "--check")
    call_command("openapi")
    assert target.read_text(encoding="utf-8") == openapi_text()
    call_command("openapi", "--check")
    target.write_text(target.read_text(encoding="utf-8").replace('"Gongzhi API"', '"Other API"'), encoding="utf-8")
    with pytest.raises(CommandError, match="gongzhi openapi"):
        call_command("openapi", "--check")
