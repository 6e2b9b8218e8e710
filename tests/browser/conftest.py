"""Browser fixtures: one Debian chromium per session, a fresh context per test, login through the form."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# An IP address spares every new browser context a "localhost" lookup.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

from playwright.sync_api import sync_playwright  # noqa: E402

from ..factories import PASSWORD  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
# Every page runs under a Content Security Policy: a violation (a blocked inline script, handler, style or
# outside asset) is a console error, so every browser test that asserts no console errors checks it too.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"} `
    + `at ${e.sourceFile || location.href}:${e.lineNumber} ${e.sample ? JSON.stringify(e.sample) : ""}`);
}, true);
"""


@pytest.fixture(scope="session", autouse=True)
def _test_database_before_live_server(django_db_setup):
    """The session-scoped live server must start after the test database exists, so that it
    shares SQLite's in-memory test database instead of opening the real file."""


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Session:
    """A logged-in page in its own browser context, collecting console errors as it goes."""

    def __init__(self, browser, base_url: str, viewport: str):
        self.base_url = base_url
        self.viewport = viewport
        self.context = browser.new_context(**VIEWPORTS[viewport], locale="zh-CN", base_url=base_url)
        self.context.set_default_timeout(10_000)
        self.context.add_init_script(CSP_LISTENER)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def login(self, username: str):
        page = self.page
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert "/accounts/login/" not in page.url, f"login failed for {username}: {page.inner_text('main')}"
        return self

    def goto(self, path: str):
        response = self.page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        self.page.wait_for_load_state("load")
        return self.page

    def overflow(self) -> int:
        """How far the page is wider than the viewport (0 when nothing sticks out sideways)."""
        return self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")

    def screenshot(self, name: str):
        SCREENS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENS / f"{name}-{self.viewport}.png"), full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def open_session(browser, live_server):
    """``open_session(username, viewport)``: a new context logged in through the login form."""
    sessions = []

    def _open(username: str, viewport: str = "desktop") -> Session:
        session = Session(browser, live_server.url, viewport).login(username)
        sessions.append(session)
        return session

    yield _open
    for session in sessions:
        session.close()
