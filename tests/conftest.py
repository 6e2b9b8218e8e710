"""Shared fixtures: a small tree with one user per role; CI turns a skipped browser test into a failure."""

import os

import pytest

from .factories import build_tree


@pytest.fixture
def tree(db):
    return build_tree()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and item.get_closest_marker("browser"):
        report.outcome = "failed"
        report.longrepr = f"browser test skipped in CI: {report.longrepr}"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_process_cache():
    """Filter choices are kept per process for a while (``core.process_cache``); each test starts without them,
    as the rows they were read from are rolled back after each test."""
    from django.core.cache import cache

    from gongzhi.core import process_cache

    process_cache.clear()
    cache.clear()  # sessions and cached users of rolled-back rows
    yield
    process_cache.clear()
    cache.clear()
