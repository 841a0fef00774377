"""Which GPUs and KV-cache dtypes the installed vLLM's sparse-MLA attention backends accept, read from source.

Each backend class in ``vllm/v1/attention/backends/mla/*sparse*.py`` states its own limits:
``supports_compute_capability`` returns ``capability.major == 12`` or ``capability.major in [9, 10]``,
``supported_kv_cache_dtypes`` lists the dtypes, ``get_name`` the name ``--attention-backend`` takes.
The files are parsed (``ast``), never imported; a class that states its limits some other way is
recorded as unreadable rather than guessed. vllm 0.19.1 wheel: flashmla_sparse.py
(``capability.major in [9, 10]``); vllm 0.24.0 wheel: flashinfer_mla_sparse.py
(FlashInferMLASparseSM120Backend, ``capability.major == 12``).
"""

from __future__ import annotations

import ast
import os
from typing import TypedDict

from glm5_doctor.probes.package_files import read_source

BACKENDS_FOLDER = ("v1", "attention", "backends", "mla")


class SparseBackendFact(TypedDict):
    name: str
    file: str
    #: compute-capability majors it accepts; None when the source states it in a form not read here
    majors: list[int] | None
    kv_cache_dtypes: list[str] | None


def read_sparse_mla_backends(package_dir: str) -> list[SparseBackendFact] | None:
    """The sparse-MLA backends of the vLLM at ``package_dir``; None when it has no such folder."""
    folder = os.path.join(package_dir, *BACKENDS_FOLDER)
    try:
        names = sorted(name for name in os.listdir(folder) if "sparse" in name and name.endswith(".py"))
    except OSError:
        return None
    found: list[SparseBackendFact] = []
    for name in names:
        path = os.path.join(folder, name)
        try:
            tree = ast.parse(read_source(path), filename=path)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        found.extend(_backends_in(tree, path))
    return found


def _backends_in(tree: ast.Module, path: str) -> list[SparseBackendFact]:
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    backends: list[SparseBackendFact] = []
    for node in classes.values():
        majors = _inherited(node, classes, _majors)
        if majors is _ABSENT:
            continue  # a base class or a helper: no capability rule of its own or inherited
        name = _inherited(node, classes, _name)
        dtypes = _inherited(node, classes, _kv_dtypes)
        backends.append(
            {
                "name": name if isinstance(name, str) else node.name,
                "file": path,
                "majors": majors if isinstance(majors, list) else None,
                "kv_cache_dtypes": dtypes if isinstance(dtypes, list) else None,
            }
        )
    return backends


_ABSENT = object()
_UNREADABLE = object()


def _inherited(node: ast.ClassDef, classes: dict[str, ast.ClassDef], read: object, depth: int = 0) -> object:
    value = read(node)  # type: ignore[operator]
    if value is not _ABSENT or depth > 8:
        return value
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in classes:
            value = _inherited(classes[base.id], classes, read, depth + 1)
            if value is not _ABSENT:
                return value
    return _ABSENT


def _method(node: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    return next((item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == name), None)


def _majors(node: ast.ClassDef) -> object:
    method = _method(node, "supports_compute_capability")
    if method is None:
        return _ABSENT
    returns = [item for item in ast.walk(method) if isinstance(item, ast.Return)]
    if len(returns) != 1 or not isinstance(returns[0].value, ast.Compare):
        return _UNREADABLE
    compare = returns[0].value
    left = compare.left
    if not (isinstance(left, ast.Attribute) and left.attr == "major") or len(compare.ops) != 1:
        return _UNREADABLE
    op, right = compare.ops[0], compare.comparators[0]
    if isinstance(op, ast.Eq) and isinstance(right, ast.Constant) and isinstance(right.value, int):
        return [right.value]
    if isinstance(op, ast.In) and isinstance(right, (ast.List, ast.Tuple, ast.Set)):
        values = [item.value for item in right.elts if isinstance(item, ast.Constant) and isinstance(item.value, int)]
        if values and len(values) == len(right.elts):
            return sorted(values)
    return _UNREADABLE


def _name(node: ast.ClassDef) -> object:
    method = _method(node, "get_name")
    if method is None:
        return _ABSENT
    returns = [item for item in ast.walk(method) if isinstance(item, ast.Return)]
    if len(returns) == 1 and isinstance(returns[0].value, ast.Constant) and isinstance(returns[0].value.value, str):
        return returns[0].value.value
    return _UNREADABLE


def _kv_dtypes(node: ast.ClassDef) -> object:
    for item in node.body:
        target: ast.expr | None = item.target if isinstance(item, ast.AnnAssign) else None
        if isinstance(item, ast.Assign) and len(item.targets) == 1:
            target = item.targets[0]
        if isinstance(target, ast.Name) and target.id == "supported_kv_cache_dtypes":
            value = item.value if isinstance(item, (ast.Assign, ast.AnnAssign)) else None
            if isinstance(value, (ast.List, ast.Tuple)):
                strings = [elt.value for elt in value.elts if isinstance(elt, ast.Constant)]
                if all(isinstance(text, str) for text in strings) and len(strings) == len(value.elts):
                    return strings
            return _UNREADABLE
    return _ABSENT
