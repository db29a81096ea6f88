"""One exception tree: every exception class of the package is defined in errors.py and drawn
in its docstring. Modules are parsed, not imported (no torch, no Ray needed)."""

import ast
import builtins
import pickle
from pathlib import Path

import vidgen_ray
from vidgen_ray import errors

PACKAGE = Path(vidgen_ray.__file__).parent
ERRORS = PACKAGE / "errors.py"
BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, BaseException)}
# A base from another library counts by its name (httpx.HTTPError, botocore's ClientError).
FOREIGN_SUFFIXES = ("Error", "Exception", "Warning", "Exit", "Interrupt")


def _base_name(node: ast.expr) -> str:
    """The last name of a base: ``ValueError``, ``errors.VidgenError`` -> ``VidgenError``."""
    while isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def exception_classes(sources: dict[str, str]) -> set[tuple[str, str]]:
    """``(where, class name)`` of every class in ``sources`` (``{where: code}``) that derives
    from an exception, directly or through another class among them."""
    classes = [(where, node.name, [_base_name(base) for base in node.bases])
               for where, code in sources.items()
               for node in ast.walk(ast.parse(code)) if isinstance(node, ast.ClassDef)]
    known, found = set(BUILTIN_EXCEPTIONS), set()
    grew = True
    while grew:
        grew = False
        for where, name, bases in classes:
            if (where, name) not in found and any(
                    base in known or base.endswith(FOREIGN_SUFFIXES) for base in bases):
                known.add(name)
                found.add((where, name))
                grew = True
    return found


def test_the_finder_sees_direct_indirect_and_foreign_exceptions():
    code = ("import httpx\nclass A(ValueError): pass\nclass B(A): pass\n"
            "class C(httpx.HTTPError): pass\nclass D: pass\nclass E(D): pass\n")
    assert exception_classes({"m.py": code}) == {("m.py", "A"), ("m.py", "B"), ("m.py", "C")}


def test_every_exception_class_is_defined_in_errors_py():
    sources = {str(path.relative_to(PACKAGE.parent)): path.read_text()
               for path in sorted(PACKAGE.rglob("*.py"))}
    found = exception_classes(sources)
    elsewhere = sorted(f"{where}: {name}" for where, name in found
                       if where != "vidgen_ray/errors.py")
    assert found and not elsewhere, f"define these in vidgen_ray/errors.py: {elsewhere}"


def test_the_docstring_draws_every_class_of_errors_py():
    defined = {name for _, name in exception_classes({"errors.py": ERRORS.read_text()})}
    assert "VidgenError" in defined
    missing = sorted(name for name in defined if f" {name} " not in errors.__doc__)
    assert not missing, f"draw these in errors.py's docstring tree: {missing}"


def test_moved_errors_keep_their_fields_status_and_pickling():
    cases = [
        (errors.IllegalTransition("no", "done", "running"), 409, {"current": "done",
                                                                  "new": "running"}),
        (errors.FarmSaturated("full", 2.5), 429, {"retry_after": 2.5}),
        (errors.FarmUnavailable("away"), 503, {}),
        (errors.RecordError("broken"), 500, {}),
        (errors.ServiceError("gone", 410, "NotFoundError", "job", 3.0), 410,
         {"kind": "NotFoundError", "field": "job", "retry_after": 3.0}),
    ]
    for error, status, fields in cases:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)
        assert again.http_status == status
        assert {key: getattr(again, key) for key in fields} == fields
    assert errors.FarmSaturated.retryable and errors.FarmUnavailable.retryable
    assert not errors.IllegalTransition.retryable


def test_the_analysis_signals_keep_their_bases():
    assert issubclass(errors.Unfaithful, ValueError)
    failure = errors.Failure("slow down", retryable=True, retry_after=4.0, status=429)
    assert str(failure) == "slow down" and failure.retry_after == 4.0
