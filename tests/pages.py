"""Reading the HTML a page test receives: its text, its error summary and field errors,
and what every page must get right (one h1, a label for every control, tables with header
cells; for the stricter check, radios and checkboxes in fieldsets with legends and tables
with captions). Also the query count of a GET."""

import html as html_lib
import re
from html.parser import HTMLParser

from django.db import connection
from django.test.utils import CaptureQueriesContext

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def plain(response) -> str:
    """The page's words without markup, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split()).replace(" .", ".")


def error_links(response) -> list[str]:
    """The fragment each error-summary link points to."""
    page = response.content.decode()
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', page, re.DOTALL)
    assert summary, "no error summary on the page"
    return re.findall(r'href="#([^"]+)"', summary.group(1))


def field_error(response, field: str) -> str:
    """The error message shown beside a field (empty when none)."""
    match = re.search(
        rf'<p id="id_{field}_error" class="govuk-error-message">(.*?)</p>',
        response.content.decode(), re.DOTALL,
    )
    if not match:
        return ""
    return html_lib.unescape(re.sub(r"<[^>]+>", "", match.group(1))).replace("Error:", "").strip()


def queries_for(client, url, params=None, *, warm=False) -> int:
    """How many queries a GET of the page makes (`warm`: after one GET to fill caches such
    as content types and templates)."""
    if warm:
        client.get(url, params)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


class _PageStructure(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h1_count = 0
        self.controls: list[tuple[str, str | None]] = []  # (tag, id)
        self.label_targets: set[str] = set()
        self.tables: list[dict] = []
        self.fieldsets: list[dict] = []
        self.radio_or_checkbox_outside_fieldset = 0
        self.open_fieldsets = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self.h1_count += 1
        elif tag == "label" and attrs.get("for"):
            self.label_targets.add(attrs["for"])
        elif tag == "fieldset":
            self.open_fieldsets += 1
            self.fieldsets.append({"legend": False})
        elif tag == "legend" and self.fieldsets:
            self.fieldsets[-1]["legend"] = True
        elif tag in ("select", "textarea") or (
            tag == "input" and attrs.get("type", "text") not in UNLABELLED_TYPES
        ):
            self.controls.append((tag, attrs.get("id")))
            if attrs.get("type") in ("radio", "checkbox") and not self.open_fieldsets:
                self.radio_or_checkbox_outside_fieldset += 1
        elif tag == "table":
            self.tables.append({"th": 0, "caption": False})
        elif tag == "th" and self.tables:
            self.tables[-1]["th"] += 1
        elif tag == "caption" and self.tables:
            self.tables[-1]["caption"] = True

    def handle_endtag(self, tag):
        if tag == "fieldset":
            self.open_fieldsets -= 1


def _structure(response) -> _PageStructure:
    page = _PageStructure()
    page.feed(response.content.decode())
    return page


def check_accessibility_basics(response) -> _PageStructure:
    """One h1, a label for every control, header cells in every table."""
    page = _structure(response)
    assert page.h1_count == 1, f"{page.h1_count} h1 elements"
    unlabelled = [(tag, id_) for tag, id_ in page.controls if not id_ or id_ not in page.label_targets]
    assert not unlabelled, f"controls without a label: {unlabelled}"
    assert all(table["th"] for table in page.tables), "a table without header cells"
    return page


def check_page_structure(response) -> None:
    """A 200 with the basics, radios and checkboxes in fieldsets with legends, and tables
    with captions as well as header cells."""
    assert response.status_code == 200
    page = check_accessibility_basics(response)
    assert page.radio_or_checkbox_outside_fieldset == 0
    assert all(fieldset["legend"] for fieldset in page.fieldsets), "a fieldset without a legend"
    assert all(t["th"] and t["caption"] for t in page.tables), "a table without caption/headers"
