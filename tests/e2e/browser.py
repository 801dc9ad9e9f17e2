"""What every end-to-end step does besides clicking: a full-page screenshot, an axe-core
accessibility check, and a look at what the browser complained about.

The browser is Debian's Chromium at /usr/bin/chromium (installed by `make test`), never a
browser downloaded by Playwright. axe-core comes from npm (node_modules) and is injected
with page.evaluate, which the DevTools protocol runs outside the page's Content Security
Policy; the policy itself stays on, so any inline script or style our pages need shows up
as a console error and fails the journey."""

import contextlib
import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from playwright.sync_api import ConsoleMessage, Page, Response, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "e2e"
AXE_SCRIPT = Path(settings.NODE_MODULES) / "axe-core" / "axe.min.js"
PASSWORD = "a-long-test-password"  # tests.factories.UserFactory's
KNOWN_GOVUK_ISSUE = "known (govuk-frontend#979)"


def govuk_conditional_reveal(violation: dict, node: dict) -> bool:
    """GOV.UK Frontend's conditional reveal puts aria-expanded on a radio or checkbox, which
    ARIA does not allow there; axe calls that critical. The Design System keeps it on
    purpose, because screen readers announce it (alphagov/govuk-frontend#979, listed as a
    known issue in #1280). Only that attribute, on those inputs, is let through: any other
    disallowed ARIA attribute still fails."""
    if violation["id"] != "aria-allowed-attr":
        return False
    if not re.search(r'class="[^"]*govuk-(radios|checkboxes)__input', node["html"]):
        return False
    values = [value for check in node["all"] + node["any"] for value in
              (check.get("data") or {}).get("values", [])]
    return bool(values) and all(value.startswith("aria-expanded=") for value in values)


@dataclasses.dataclass
class Finding:
    """One axe-core rule broken on one page."""

    step: str
    rule: str
    impact: str
    help: str
    targets: list[str]

    def __str__(self):
        where = ", ".join(self.targets[:3]) + (" …" if len(self.targets) > 3 else "")
        return f"{self.step}: [{self.impact}] {self.rule} – {self.help} ({where})"


@dataclasses.dataclass
class BrowserTrouble:
    """What the browser reported: console errors (CSP violations among them), uncaught
    exceptions and server errors. Collected by listeners, checked at every step."""

    messages: list[str] = dataclasses.field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"uncaught error: {error}"))
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium reports a Content Security Policy violation as a console error.
        if message.type == "error":
            self.messages.append(f"console error: {message.text} ({message.location})")

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.messages.append(f"server error {response.status}: {response.url}")


class Journey:
    """One browser tab walked through the service by several people in turn."""

    def __init__(self, page: Page, *, base_url: str):
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.trouble = BrowserTrouble()
        self.trouble.watch(page)
        self.findings: list[Finding] = []
        self.screenshots: list[Path] = []
        self._axe = AXE_SCRIPT.read_text(encoding="utf-8")

    # --- People ---------------------------------------------------------------------------

    def sign_in(self, username: str) -> None:
        """Through the sign-in form, as the person would. The form is checked the first
        time only: it is the same page for everyone."""
        self.page.goto(f"{self.base_url}/sign-in/")
        self.heading("Sign in")
        if not self.screenshots:
            self.check("sign-in")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_text("Signed in as")).to_be_visible()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        self.heading("Sign in")

    # --- Pages ----------------------------------------------------------------------------

    def nav(self, name: str) -> None:
        """Follow a link of the service navigation."""
        self.page.get_by_role("navigation", name="Menu").get_by_role("link", name=name).click()

    def heading(self, text: str | re.Pattern) -> None:
        """Wait for the page whose main heading is `text`."""
        expect(self.page.get_by_role("heading", level=1)).to_have_text(text)

    def success(self, text: str | re.Pattern) -> None:
        """The green banner a completed action leaves."""
        banner = self.page.get_by_role("alert").filter(has_text="Success")
        expect(banner).to_contain_text(text)

    def check(self, step: str) -> None:
        """Screenshot, accessibility check and browser-trouble check of the page shown."""
        self.page.wait_for_load_state("load")
        path = ARTIFACTS / f"{len(self.screenshots) + 1:02d}-{step}.png"
        self.page.screenshot(path=path, full_page=True)
        self.screenshots.append(path)
        self._check_accessibility(step)
        assert not self.trouble.messages, (
            f"The browser reported trouble by step {step}:\n" + "\n".join(self.trouble.messages)
        )

    def _check_accessibility(self, step: str) -> None:
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(self._axe)
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        found = []
        for violation in result:
            known = [n for n in violation["nodes"] if govuk_conditional_reveal(violation, n)]
            for nodes, impact in (
                ([n for n in violation["nodes"] if n not in known], violation["impact"]),
                (known, KNOWN_GOVUK_ISSUE),
            ):
                if nodes:
                    found.append(Finding(
                        step=step, rule=violation["id"], impact=impact or "unknown",
                        help=violation["help"],
                        targets=[" ".join(map(str, node["target"])) for node in nodes],
                    ))
        self.findings += found
        # Any impact fails, moderate and minor too; only the known GOV.UK issue is let by.
        unexpected = [f for f in found if f.impact != KNOWN_GOVUK_ISSUE]
        assert not unexpected, "Accessibility violations:\n" + "\n".join(map(str, unexpected))

    def summary(self) -> list[str]:
        """For the end of the test run: what was checked."""
        known = [f for f in self.findings if f.impact == KNOWN_GOVUK_ISSUE]
        return [f"Journey: {len(self.screenshots)} pages screenshotted and checked with "
                f"axe-core: no violation, but {len(known)} page(s) with the known GOV.UK "
                f"conditional-reveal issue."]

    def write_report(self) -> Path:
        """Every axe finding of the journey, for the CI artefacts beside the screenshots."""
        path = ARTIFACTS / "accessibility.json"
        path.write_text(json.dumps([dataclasses.asdict(f) for f in self.findings], indent=2))
        return path


@contextlib.contextmanager
def open_journey(base_url: str) -> Iterator[Journey]:
    """Chromium with one tab, for the length of the `with` block.

    Playwright's sync API keeps an asyncio event loop running in this thread while it is
    open, and Django refuses database calls from a thread with a running loop
    (SynchronousOnlyOperation). So a test builds its data before the block and checks the
    database after it; inside, it only drives the browser, and the live server thread
    (which has no loop) does the database work. DJANGO_ALLOW_ASYNC_UNSAFE would also
    silence the check, but for the whole process and every later test."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=10_000)  # pages wait on a shared CI machine
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            context = browser.new_context(
                locale="en-GB", timezone_id=settings.TIME_ZONE,
                viewport={"width": 1280, "height": 900},
            )
            page = context.new_page()
            page.set_default_timeout(10_000)
            journey = Journey(page, base_url=base_url)
            try:
                yield journey
            except Exception:
                with contextlib.suppress(Exception):  # keep the test's own error
                    page.screenshot(path=ARTIFACTS / "failure.png", full_page=True)
                raise
            finally:
                if journey.screenshots:
                    journey.write_report()
        finally:
            browser.close()
