"""Size limits of the product code: a module over 400 lines or a function over 50 is split.

A function's length is `end_lineno - lineno + 1` of its `def` (decorators not counted, nested
functions counted inside their parent and on their own). Failures list every offender, longest
first, so one run says everything there is to split.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_PACKAGES = ("tap_getresponse", "target_getresponse")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def product_modules() -> list[Path]:
    return sorted(path for package in PRODUCT_PACKAGES for path in (ROOT / package).rglob("*.py"))


def functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from functions(node, f"{name}.<locals>.")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}{node.name}.")
        else:
            yield from functions(node, prefix)


def fail_listing(title: str, offenders: list[tuple[int, str]], limit: int) -> None:
    """Fail with one line per offender (lines, where), longest first; pass when there is none."""
    if offenders:
        lines = [f"{len(offenders)} {title} over {limit} lines:"]
        lines += [f"  {size:4d}  {where}" for size, where in sorted(offenders, reverse=True)]
        pytest.fail("\n".join(lines), pytrace=False)


def test_product_modules_are_found():
    names = {path.relative_to(ROOT).as_posix() for path in product_modules()}
    assert {"tap_getresponse/tap.py", "target_getresponse/target.py"} <= names


def test_no_product_module_over_400_lines():
    offenders = []
    for path in product_modules():
        size = len(path.read_text(encoding="utf-8").splitlines())
        if size > MAX_MODULE_LINES:
            offenders.append((size, path.relative_to(ROOT).as_posix()))
    fail_listing("modules", offenders, MAX_MODULE_LINES)


def test_no_function_over_50_lines():
    offenders = []
    for path in product_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, node in functions(tree):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            if size > MAX_FUNCTION_LINES:
                where = f"{path.relative_to(ROOT).as_posix()}:{node.lineno} {name}"
                offenders.append((size, where))
    fail_listing("functions", offenders, MAX_FUNCTION_LINES)


def test_a_long_function_is_reported_by_its_qualified_name():
    source = "class A:\n    def f(self):\n" + "        x = 1\n" * 60
    sizes = {name: node.end_lineno - node.lineno + 1 for name, node in functions(ast.parse(source))}
    assert sizes == {"A.f": 61}
