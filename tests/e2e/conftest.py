"""End-to-end tests: skipped when Debian's Chromium is missing, unless E2E_REQUIRED=1
(CI) makes that a failure. Deselect them locally with `-m "not e2e"`."""

import os

import pytest

from tests.e2e.browser import ARTIFACTS, CHROMIUM

SUMMARY = pytest.StashKey[list]()


def pytest_configure(config):
    # Also to be registered in pyproject.toml; repeated here so that --strict-markers
    # accepts the marker whichever way the tests are started.
    config.addinivalue_line("markers", "e2e: end-to-end tests in a real browser (Chromium)")


def pytest_runtest_setup(item):
    """Before any fixture runs, so that a machine without Chromium does not build a test
    database only to skip."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)"
    if os.environ.get("E2E_REQUIRED") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _fresh_artifacts():
    """The artefacts folder holds this run's screenshots only."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.json")]:
        old.unlink()


@pytest.fixture
def e2e_summary(pytestconfig) -> list[str]:
    """Lines printed at the end of the run, after pytest's own summary."""
    return pytestconfig.stash.setdefault(SUMMARY, [])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(SUMMARY, None)
    if lines is None:
        return
    terminalreporter.section("end-to-end")
    for line in lines:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"Screenshots and accessibility report: {ARTIFACTS}")
