"""Browser protections: a Content Security Policy without 'unsafe-inline' on every page,
pages (and templates) with no inline style and no inline script but the one carrying the
request's nonce, the usual security headers, and production's cookie and transport
settings."""

import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse

from core.roles import Role
from placements.models import ReferralStatus
from tests.config.test_settings import PRODUCTION_ENV, run_django
from tests.factories import (
    AgendaItemFactory,
    ChildFactory,
    DirectorApprovalFactory,
    PanelFactory,
    PanelMeetingFactory,
    PlacementCostFactory,
    PlacementFactory,
    referral_in,
)
from tests.sourcing import market_fixture, ready_referral  # noqa: F401 (fixture)

ROOT = Path(settings.BASE_DIR)
EXPECTED_DIRECTIVES = {
    "default-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Links the crawl does not follow: not pages, or not ours.
SKIP = re.compile(r"^/(sign-out|admin|api)/|\.(csv|xlsx)$|/export/")
MAX_PAGES_PER_ROLE = 80
PAGES_PER_KIND = 4


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip()
    )


def header_nonce(response) -> str:
    match = re.search(r"'nonce-([^']+)'", policy(response)["script-src"])
    assert match, "the script-src has no nonce"
    return match.group(1)


class InlineCode(HTMLParser):
    """What a strict CSP would block, or let through only with the nonce."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.nonces: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs.items())}>"[:120]
        if "style" in attrs:
            self.problems.append(f"inline style attribute: {where}")
        if any(name.startswith("on") for name in attrs):
            self.problems.append(f"inline event handler: {where}")
        if any((attrs.get(name) or "").strip().lower().startswith("javascript:")
               for name in ("href", "src", "action", "formaction")):
            self.problems.append(f"javascript: URL: {where}")
        if tag == "style":
            self.problems.append(f"<style> element: {where}")
        if tag == "script":
            self._script(attrs, where)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def _script(self, attrs, where):
        if attrs.get("type") == "application/json":
            return  # data, never run
        if attrs.get("src"):
            if urlsplit(attrs["src"]).netloc:
                self.problems.append(f"script from another site: {where}")
            return
        if "nonce" in attrs:
            self.nonces.append(attrs["nonce"])
        else:
            self.problems.append(f"inline script without the nonce: {where}")


def inline_code(response) -> InlineCode:
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser


def check_page(url, response) -> list[str]:
    """Everything wrong with one HTML page's protections."""
    problems = [f"{url}: {problem}" for problem in inline_code(response).problems]
    csp = policy(response)
    if "'unsafe-inline'" in response["Content-Security-Policy"]:
        problems.append(f"{url}: the policy allows 'unsafe-inline'")
    for directive, value in EXPECTED_DIRECTIVES.items():
        if csp.get(directive) != value:
            problems.append(f"{url}: {directive} is {csp.get(directive)!r}, not {value!r}")
    nonces = set(inline_code(response).nonces)
    if nonces and nonces != {header_nonce(response)}:
        problems.append(f"{url}: script nonces {nonces} do not match the header's")
    return problems


# --- One page in detail ---------------------------------------------------------------------


def test_the_sign_in_page_carries_the_policy_and_the_nonced_js_enabled_line(client):
    response = client.get(reverse("login"))

    assert check_page("/sign-in/", response) == []
    csp = policy(response)
    assert csp["script-src"].split() == ["'self'", f"'nonce-{header_nonce(response)}'"]
    assert "unsafe" not in response["Content-Security-Policy"]
    assert inline_code(response).nonces == [header_nonce(response)]
    assert "js-enabled" in response.content.decode()


def test_every_response_has_its_own_nonce(client):
    first, second = client.get(reverse("login")), client.get(reverse("login"))
    assert header_nonce(first) != header_nonce(second)
    assert len(header_nonce(first)) >= 16


def test_the_usual_security_headers(client, personas):
    client.force_login(personas[Role.SOCIAL_WORKER])
    response = client.get(reverse("home"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_lockout_and_confirm_pages_are_covered_too(client, personas):
    client.force_login(personas[Role.DIRECTOR])
    assert check_page("confirm", client.get(reverse("confirm-password"))) == []
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = client.post(reverse("login"), {"username": "director", "password": "x"})
    assert locked.status_code == 429
    assert check_page("lockout", locked) == []


# --- Every page a role can reach --------------------------------------------------------------


@pytest.fixture
def world(personas, north, market):
    """One of most things, so that most pages have something to show."""
    officer = personas[Role.COMMISSIONING_OFFICER]
    for status in (ReferralStatus.DRAFT, ReferralStatus.SUBMITTED, ReferralStatus.ENDORSED):
        referral_in(status, team=north)
    placement = PlacementFactory(child=ChildFactory(team=north))
    PlacementCostFactory(placement=placement)
    panel = PanelFactory(default_chair=personas[Role.PANEL_CHAIR])
    panel.members.add(personas[Role.PANEL_MEMBER])
    meeting = PanelMeetingFactory(panel=panel)
    AgendaItemFactory(meeting=meeting, referral=referral_in(ReferralStatus.LISTED, team=north))
    DirectorApprovalFactory(referral=referral_in(ReferralStatus.AWAITING_DIRECTOR, team=north))
    from placements.services import sourcing

    referral = ready_referral(team=north)
    sourcing.sourcing_start(by=officer, referral=referral)
    sourcing.sourcing_send(by=officer, referral=referral, service_ids=[market.good.pk],
                           off_framework_reasons={})


def crawl(client) -> dict[str, list[str]]:
    """GET the pages reachable by links from home, a few of each kind (/referrals/N/ in
    different states), up to a limit; the problems found on each HTML page."""
    seen, kinds, queue, found = set(), Counter(), [reverse("home")], {}
    while queue and len(found) < MAX_PAGES_PER_ROLE:
        url = queue.pop(0)
        path = urlsplit(url).path
        kind = re.sub(r"\d+", "N", path)
        if path in seen or kinds[kind] >= PAGES_PER_KIND or SKIP.search(path) or not path.startswith("/"):
            continue
        seen.add(path)
        kinds[kind] += 1
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        found[url] = check_page(url, response)
        queue.extend(link for link in inline_code(response).links if link.startswith("/"))
    return found


@pytest.mark.parametrize("role", list(Role), ids=[role.value for role in Role])
def test_no_page_a_role_reaches_has_inline_style_or_script(client, personas, world, role):
    client.force_login(personas[role])

    found = crawl(client)

    assert len(found) >= 5, f"the crawl reached only {list(found)}"
    problems = [problem for page in found.values() for problem in page]
    assert problems == []


# --- Every template, rendered or not ----------------------------------------------------------


def _our_templates():
    folders = [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]
    return sorted(path for folder in folders for path in folder.rglob("*.html"))


INLINE_IN_SOURCE = [
    (re.compile(r"\sstyle\s*="), "inline style attribute"),
    (re.compile(r"<style\b"), "<style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "inline event handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def test_no_template_has_inline_style_or_unnonced_script():
    templates = _our_templates()
    assert len(templates) > 20
    problems = []
    for template in templates:
        source = template.read_text()
        name = template.relative_to(ROOT)
        problems += [f"{name}: {why}" for pattern, why in INLINE_IN_SOURCE if pattern.search(source)]
        for attributes in SCRIPT_TAG.findall(source):
            if not re.search(r"\b(src|nonce)=|type=\"application/json\"", attributes):
                problems.append(f"{name}: inline script without the nonce")
    assert problems == []


# --- Production ------------------------------------------------------------------------------


def test_production_cookies_and_transport():
    result = run_django(
        "config.settings.production", "shell", "--no-imports", "-c",
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE,"
        " s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY,"
        " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SAMESITE,"
        " 'unsafe-inline' in str(s.CONTENT_SECURITY_POLICY))",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "True", "True", "True", "True", "31536000", "True",
        "__Host-sessionid", "__Host-csrftoken", "Lax", "False",
    ]
