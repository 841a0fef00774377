"""What deepgemm.torch-abi and vllm.torch-abi share: extensions' torch symbols against the installed torch."""

from __future__ import annotations

from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.extension_abi import ExtensionAbiFact


def judge_abi(
    found: ExtensionAbiFact, owners: tuple[str, ...], what: str, remedy: str, extra: dict[str, str] | None = None
) -> Outcome:
    extensions = [e for e in found["extensions"] if e["owner"] in owners]
    evidence: dict[str, object] = {
        **(extra or {}),
        "torch_lib_dir": found["torch_lib_dir"],
        "torch_libraries": found["torch_libraries"],
        "extensions": {
            e["path"]: f"{e['torch_symbols']} torch symbols, {len(e['missing'])} missing" for e in extensions
        },
    }
    if not found["torch_libraries"]:
        return Outcome.skipped(f"no torch libraries in the target environment to resolve {what} against", evidence)
    if not extensions:
        return Outcome.skipped(f"no compiled {what} extension found", evidence)
    unreadable = [e for e in extensions if e["error"]]
    broken = [e for e in extensions if e["missing"]]
    if broken:
        first = broken[0]
        evidence["missing"] = {e["path"]: e["missing"] for e in broken}
        return Outcome.failed(
            f"{first['path']} needs {first['missing'][0]}, which the installed torch does not export "
            f'({len(first["missing"])} such symbol(s)): import fails with "undefined symbol: {first["missing"][0]}"; '
            f"{remedy}",
            evidence,
        )
    if unreadable:
        first = unreadable[0]
        return Outcome.errored(f"cannot read {first['path']}: {first['error']}", evidence)
    total = sum(e["torch_symbols"] for e in extensions)
    return Outcome.passed(
        f"{len(extensions)} {what} extension(s) resolve all {total} torch symbols against {found['torch_lib_dir']}",
        evidence,
    )
