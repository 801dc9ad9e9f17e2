"""Every service that changes data writes an audit event: a guard over the source.

The service modules of every app (`<app>/services.py`, `<app>/services/*.py`) are read
with `ast`, not imported. A public function *writes* when it runs in
`transaction.atomic` (decorated or in a `with`), calls an ORM write (`save`, `create`,
`update`, `delete`, `bulk_create`, …), or calls another service function that writes.
It is *audited* when it, or a private helper it calls (`_name`, in its own module or
imported from another service module, to any depth), calls `core.audit.record`.

Each public writer must be audited, or named below as a delegate (it writes only through
other, audited public services, which the test checks) or as exempt (with the reason).
A new service that writes and audits nothing makes this test fail.

This is a net, not a proof: it sees that a function records *something*, not that it
records every row it changes. The behavioural tests (tests/*/test_audit_*.py) check the
events themselves.
"""

import ast
import dataclasses
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "node_modules", "tests", ".git"}
WRITE_METHODS = frozenset({
    "save", "delete", "create", "update", "bulk_create", "bulk_update", "get_or_create",
    "update_or_create",
})
AUDIT_MODULE = "core.audit"

# Public functions that write only by calling other public services, which audit: the
# test checks each calls the service named and that it is audited.
DELEGATES = {
    # The weekly task: meeting_schedule_next for each active panel, one transaction each.
    "panels.services.meetings_schedule_all": ["panels.services.meeting_schedule_next"],
    # framework_rate_upsert without the 'created' flag; the upsert audits.
    "providers.services.catalogue.framework_rate_set": [
        "providers.services.catalogue.framework_rate_upsert"
    ],
    # Each row goes through the catalogue services, which audit every record they change
    # with the file's line as the reason.
    "providers.services.imports.import_services_csv": [
        "providers.services.catalogue.provider_create",
        "providers.services.catalogue.provider_update",
        "providers.services.catalogue.service_create",
        "providers.services.catalogue.service_update",
    ],
    "providers.services.imports.import_rates_csv": [
        "providers.services.catalogue.framework_rate_upsert"
    ],
    # The checks, then close_placement, which audits the ending of the placement.
    "placements.services.placements.placement_end": [
        "placements.services.placements.close_placement"
    ],
}

# Public functions that write but change nothing worth an audit event: {name: why}. None
# today. (Functions that only queue work, such as queue_ledger_refresh or
# tell_providers, do not count as writers at all: the ledger is derived data, rebuilt
# from audited rows, and e-mails are not records.)
EXEMPT: dict[str, str] = {}


# --- Reading the service modules ----------------------------------------------------------


@dataclasses.dataclass(repr=False)
class Function:
    module: str
    name: str
    node: ast.FunctionDef
    calls: set[tuple[str, str]] = dataclasses.field(default_factory=set)  # (module, name)
    records: bool = False  # calls core.audit.record itself
    writes_itself: bool = False

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def public(self) -> bool:
        return not self.name.startswith("_")

    def __repr__(self) -> str:  # short, for pytest's assertion messages
        return self.qualname


def service_modules(root: Path = ROOT) -> dict[str, str]:
    """{dotted module name: source} for every app's service modules."""
    paths = [*root.glob("*/services.py"), *root.glob("*/services/*.py")]
    return {
        ".".join(path.relative_to(root).with_suffix("").parts): path.read_text()
        for path in sorted(paths)
        if not SKIPPED_DIRS & set(path.relative_to(root).parts) and path.name != "__init__.py"
    }


def _imports(tree: ast.Module, modules: set[str]) -> tuple[dict, dict]:
    """(names bound to modules, names bound to a module's attribute) at the top level."""
    module_aliases, names = {}, {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                module_aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                local = alias.asname or alias.name
                if full in modules or full == AUDIT_MODULE:
                    module_aliases[local] = full
                else:
                    names[local] = (node.module, alias.name)
    return module_aliases, names


def _is_atomic(node: ast.AST) -> bool:
    """transaction.atomic, transaction.atomic(...), or atomic / atomic(...)."""
    if isinstance(node, ast.Call):
        node = node.func
    return (isinstance(node, ast.Attribute) and node.attr == "atomic") or (
        isinstance(node, ast.Name) and node.id == "atomic"
    )


def _writes_itself(node: ast.FunctionDef) -> bool:
    if any(_is_atomic(d) for d in node.decorator_list):
        return True
    for child in ast.walk(node):
        if isinstance(child, ast.With | ast.AsyncWith) and any(
            _is_atomic(item.context_expr) for item in child.items
        ):
            return True
        if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                and child.func.attr in WRITE_METHODS):
            return True
    return False


def _references(node: ast.FunctionDef, module: str, local: set[str], aliases, names):
    """Every (module, name) the function calls or passes on (a helper handed to another
    function, or called in a lambda, counts), and whether it calls audit.record."""
    found, records = set(), False
    for child in ast.walk(node):
        target = None
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
            if child.id in local:
                target = (module, child.id)
            elif child.id in names:
                target = names[child.id]
        elif isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name):
            if child.value.id in aliases:
                target = (aliases[child.value.id], child.attr)
        if target == (AUDIT_MODULE, "record"):
            records = True
        elif target is not None:
            found.add(target)
    return found, records


def read_functions(sources: dict[str, str]) -> dict[tuple[str, str], Function]:
    functions = {}
    for module, source in sources.items():
        tree = ast.parse(source)
        aliases, names = _imports(tree, set(sources))
        defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        local = {n.name for n in defs}
        for node in defs:
            calls, records = _references(node, module, local, aliases, names)
            calls.discard((module, node.name))
            functions[(module, node.name)] = Function(
                module, node.name, node, calls, records, _writes_itself(node)
            )
    return functions


def _reaches(functions, start: Function, *, found, through) -> bool:
    """Whether `found(f)` holds for `start` or a function it calls, following only the
    calls `through(f)` allows."""
    seen, todo = set(), [start]
    while todo:
        function = todo.pop()
        if (function.module, function.name) in seen:
            continue
        seen.add((function.module, function.name))
        if found(function):
            return True
        todo.extend(
            functions[key] for key in function.calls
            if key in functions and through(functions[key])
        )
    return False


def writes(functions, function: Function) -> bool:
    return _reaches(functions, function, found=lambda f: f.writes_itself, through=lambda f: True)


def audited(functions, function: Function) -> bool:
    return _reaches(functions, function, found=lambda f: f.records,
                    through=lambda f: not f.public)


def unaudited_writers(functions) -> list[str]:
    return sorted(
        f.qualname for f in functions.values()
        if f.public and writes(functions, f) and not audited(functions, f)
    )


FUNCTIONS = read_functions(service_modules())
BY_NAME = {f.qualname: f for f in FUNCTIONS.values()}
WRITERS = sorted(
    f.qualname for f in FUNCTIONS.values() if f.public and writes(FUNCTIONS, f)
)


# --- The guard ----------------------------------------------------------------------------


def test_the_guard_reads_every_apps_service_modules():
    modules = {f.module for f in FUNCTIONS.values()}
    assert {"panels.services", "providers.services.catalogue", "providers.services.sourcing",
            "providers.services.chasing", "providers.services.imports",
            "placements.services.referrals", "placements.services.sourcing",
            "placements.services.placements", "placements.services.budgets"} <= modules
    assert len(WRITERS) > 40


@pytest.mark.parametrize("qualname", WRITERS)
def test_every_service_that_writes_records_an_audit_event(qualname):
    function = BY_NAME[qualname]
    if qualname in EXEMPT:
        return
    if qualname in DELEGATES:
        for delegate in DELEGATES[qualname]:
            callee = BY_NAME[delegate]
            assert _reaches(FUNCTIONS, function,
                            found=lambda f, callee=callee: f is callee,
                            through=lambda f: not f.public or f is callee), (
                f"{qualname} no longer calls {delegate}: update DELEGATES"
            )
            assert audited(FUNCTIONS, callee), f"{delegate} records no audit event"
        return
    assert audited(FUNCTIONS, function), (
        f"{qualname} changes data but records no audit event. Call core.audit.record in "
        "the same transaction (or in a private helper it calls), or, if it changes "
        "nothing worth auditing, add it to EXEMPT in this file with the reason."
    )


def test_the_exemptions_and_delegates_name_real_writers():
    named = set(EXEMPT) | set(DELEGATES)
    assert named <= set(WRITERS), f"no longer services that write: {named - set(WRITERS)}"
    assert all(reason.strip() for reason in EXEMPT.values())


# --- The guard can fail -------------------------------------------------------------------

FAKE_SERVICES = {
    "fake.services": '''
from django.db import transaction
from core import audit
from fake.helpers import _shared

@transaction.atomic
def thing_create(*, by):
    thing = Thing.objects.create()
    _note(by, thing)
    return thing

def _note(by, thing):
    audit.record(by, "thing.create", thing)

@transaction.atomic
def thing_forget(*, by, thing):
    thing.delete()

def thing_quietly(*, thing):
    thing.save()

def things_all(*, by):
    return [thing_create(by=by) for _ in range(3)]

@transaction.atomic
def thing_shared(*, by):
    _shared(by)

def thing_read(*, pk):
    return Thing.objects.get(pk=pk)
''',
    "fake.helpers": '''
from core.audit import record

def _shared(by):
    record(by, "thing.share", None)
''',
}


def test_the_guard_finds_services_that_write_without_an_audit():
    functions = read_functions(FAKE_SERVICES)

    # thing_create audits through a private helper, thing_shared through one imported
    # from another module; things_all only calls a public service (a delegate at best).
    assert unaudited_writers(functions) == [
        "fake.services.thing_forget", "fake.services.thing_quietly", "fake.services.things_all",
    ]
    assert not writes(functions, functions[("fake.services", "thing_read")])
