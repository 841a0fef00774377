"""CUDA toolchain checks against real layouts: fake nvcc executables printing real outputs,
torch's real version.py shape, gcc-built ELF objects, DeepGEMM copies with real CUTLASS headers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from glm5_doctor.probes import ProbeContext, nvcc
from glm5_doctor.probes.elf import ElfError, needed_libraries
from helpers import (
    FIXTURES,
    WHEELS,
    TargetEnv,
    add_deep_gemm,
    add_torch,
    build_shared_object,
    by_id,
    doctor_env,
    ext_suffix,
    make_toolkit,
    run_json,
)

HAS_GCC = shutil.which("gcc") is not None


def nvcc_result(env: TargetEnv, **environ: str | None) -> dict:
    # --gpu B200: judge against B200 whatever GPU this machine has (the floors differ for Hopper)
    _, report = run_json(
        "--python", str(env.python), "--select", "cuda.nvcc", "--gpu", "B200", env=doctor_env(**environ)
    )
    return by_id(report)["cuda.nvcc"]


# --- cuda.nvcc -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("release", "status"), [("12.4", "fail"), ("12.8", "fail"), ("12.9", "pass"), ("13.0", "pass")]
)
def test_nvcc_release_against_the_b200_floor(target_env: TargetEnv, tmp_path: Path, release: str, status: str) -> None:
    home = make_toolkit(tmp_path / f"cuda-{release}", release)
    add_torch(
        target_env,
        "2.10.0+cu129" if release.startswith("12") else "2.11.0+cu130",
        "12.9" if release.startswith("12") else "13.0",
    )
    result = nvcc_result(target_env, CUDA_HOME=str(home))
    assert result["status"] == status, result
    assert result["evidence"]["release"] == release
    assert result["evidence"]["cuda_home_from"] == "CUDA_HOME"
    if status == "fail":
        assert "needs 12.9+" in result["message"]


def test_cuda_home_without_nvcc_beats_a_good_nvcc_on_path(target_env: TargetEnv, tmp_path: Path) -> None:
    """DeepGEMM asks CUDA_HOME before PATH: the message says so and names the nvcc that is ignored."""
    good = make_toolkit(tmp_path / "cuda-13.0", "13.0")
    empty_home = tmp_path / "cuda-empty"
    empty_home.mkdir()
    result = nvcc_result(target_env, CUDA_HOME=str(empty_home), PATH=f"{good / 'bin'}:/usr/bin:/bin")
    assert result["status"] == "fail"
    assert f"CUDA_HOME={empty_home}" in result["message"]
    assert str(good / "bin" / "nvcc") in result["message"]


def test_nvcc_found_through_path_and_cuobjdump_beside_it(target_env: TargetEnv, tmp_path: Path) -> None:
    home = make_toolkit(tmp_path / "cuda-12.9", "12.9")
    result = nvcc_result(target_env, PATH=f"{home / 'bin'}:/usr/bin:/bin")
    assert result["status"] == "pass"
    assert result["evidence"]["cuda_home_from"] == "which nvcc"
    assert result["evidence"]["cuda_home"] == str(home)


def test_missing_cuobjdump_fails(target_env: TargetEnv, tmp_path: Path) -> None:
    home = make_toolkit(tmp_path / "cuda-13.0", "13.0", cuobjdump=False)
    result = nvcc_result(target_env, CUDA_HOME=str(home))
    assert result["status"] == "fail"
    assert "cuobjdump" in result["message"]


def test_cuda_major_other_than_torch_warns(target_env: TargetEnv, tmp_path: Path) -> None:
    add_torch(target_env, "2.10.0+cu128", "12.8")
    home = make_toolkit(tmp_path / "cuda-13.0", "13.0")
    result = nvcc_result(target_env, CUDA_HOME=str(home))
    assert result["status"] == "warn"
    assert "CUDA 12.8" in result["message"]


def test_dg_jit_nvcc_compiler_overrides_the_compiler(target_env: TargetEnv, tmp_path: Path) -> None:
    old = make_toolkit(tmp_path / "cuda-12.8", "12.8")
    new = make_toolkit(tmp_path / "cuda-13.0", "13.0")
    result = nvcc_result(target_env, CUDA_HOME=str(old), DG_JIT_NVCC_COMPILER=str(new / "bin" / "nvcc"))
    assert result["evidence"]["release"] == "13.0"
    assert result["status"] == "pass"


def test_vllm_033_needs_129_even_on_hopper_profile_b200(target_env: TargetEnv, tmp_path: Path) -> None:
    target_env.add_vllm_release("0.33.0")
    home = make_toolkit(tmp_path / "cuda-12.8", "12.8")
    result = nvcc_result(target_env, CUDA_HOME=str(home))
    assert result["status"] == "fail"
    assert "vLLM 0.33.0's DeepGEMM" in result["message"]


@pytest.mark.parametrize(
    ("script", "status", "expected"),
    [
        ("#!/bin/sh\necho 'nvcc fatal : something broke' >&2\nexit 3\n", "fail", "exited with status 3"),
        ("#!/bin/sh\nexit 0\n", "fail", "printed no 'release X.Y' line"),
        ("#!/bin/sh\nprintf 'Cuda compilation tools, release 12.9, V12.9.86 \\377\\376\\n'\n", "pass", "12.9"),
        ("#!/bin/sh\necho 'NVIDIA CUDA compiler, version twelve'\n", "error", "cannot read the release"),
    ],
)
def test_odd_nvcc_behaviour_gives_a_clear_result(
    target_env: TargetEnv, tmp_path: Path, script: str, status: str, expected: str
) -> None:
    home = make_toolkit(tmp_path / "cuda", None, script=script)
    result = nvcc_result(target_env, CUDA_HOME=str(home))
    assert result["status"] == status, result
    assert expected in result["message"]


def test_broken_symlink_nvcc_does_not_exist(target_env: TargetEnv, tmp_path: Path) -> None:
    home = tmp_path / "cuda"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "nvcc").symlink_to(tmp_path / "gone" / "nvcc")
    result = nvcc_result(target_env, CUDA_HOME=str(home))
    assert result["status"] == "fail"
    assert "does not exist" in result["message"]


def test_hanging_nvcc_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = make_toolkit(tmp_path / "cuda", None, script="#!/bin/sh\nexec sleep 30\n")
    monkeypatch.setattr(nvcc, "NVCC_TIMEOUT_S", 0.5)
    fact = nvcc.probe_nvcc(ProbeContext(environ={"CUDA_HOME": str(home), "PATH": "/usr/bin:/bin"}))
    assert fact["release"] is None
    assert "did not finish within 0.5 s" in (fact["run_error"] or "")


def test_nothing_anywhere_lists_where_it_looked(
    target_env: TargetEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(nvcc, "DEFAULT_CUDA_HOME", str(tmp_path / "no-cuda"))
    fact = nvcc.probe_nvcc(ProbeContext(environ={"PATH": str(tmp_path)}))
    assert fact["nvcc"] is None and fact["cuda_home"] is None
    from glm5_doctor.checks.cuda import cuda_nvcc
    from glm5_doctor.deployment.profile import DEFAULT_PROFILE
    from glm5_doctor.engine.facts import Facts

    facts = Facts({"nvcc": fact, "torch": {"cuda": None}, "distributions": {"by_name": {}, "unreadable_paths": {}}})
    outcome = cuda_nvcc(facts, DEFAULT_PROFILE)
    assert outcome.status.value == "fail"
    assert "$CUDA_HOME, $CUDA_PATH, `which nvcc`, /usr/local/cuda" in outcome.message


def test_the_real_nvcc_on_this_machine() -> None:
    real = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else None)
    if real is None:
        pytest.skip("no nvcc on this machine")
    printed = subprocess.run([real, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    expected = re.search(r"release (\d+\.\d+)", printed)
    assert expected is not None
    fact = nvcc.probe_nvcc(ProbeContext(environ={"DG_JIT_NVCC_COMPILER": real, "PATH": os.environ["PATH"]}))
    assert fact["release"] == expected.group(1)
    assert fact["nvcc"] == real


# --- torch.cuda-build and vllm.cuda-build --------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "cuda", "hip", "status", "expected"),
    [
        ("2.9.1+cu126", "12.6", None, "fail", "no sm_100 kernels"),
        ("2.10.0+cu128", "12.8", None, "pass", "CUDA 12.8 build"),
        ("2.11.0+cu130", "13.0", None, "pass", "CUDA 13.0 build"),
        ("2.10.0+cpu", None, None, "fail", "CPU-only"),
        ("2.10.0+rocm6.4", None, "6.4.43482", "fail", "ROCm"),
    ],
)
def test_torch_builds(
    target_env: TargetEnv, version: str, cuda: str | None, hip: str | None, status: str, expected: str
) -> None:
    add_torch(target_env, version, cuda, hip)
    _, report = run_json("--python", str(target_env.python), "--select", "torch.cuda-build", "--gpu", "B200")
    result = by_id(report)["torch.cuda-build"]
    assert result["status"] == status, result
    assert expected in result["message"]


def test_torch_against_vllm_pin_ignores_local_tag(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.19.1")  # pins torch==2.10.0
    add_torch(target_env, "2.10.0+cu129", "12.9")
    _, report = run_json("--python", str(target_env.python), "--select", "torch.cuda-build", "--gpu", "B200")
    assert by_id(report)["torch.cuda-build"]["status"] == "pass"


def test_torch_outside_vllm_pin_fails(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.19.1")
    add_torch(target_env, "2.9.1+cu128", "12.8")
    _, report = run_json("--python", str(target_env.python), "--select", "torch.cuda-build", "--gpu", "B200")
    result = by_id(report)["torch.cuda-build"]
    assert result["status"] == "fail"
    assert "torch==2.10.0" in result["message"]


def test_no_torch_fails_with_the_pin(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.19.1")
    _, report = run_json("--python", str(target_env.python), "--select", "torch.cuda-build", "--gpu", "B200")
    assert by_id(report)["torch.cuda-build"]["message"] == "torch is not installed: vLLM 0.19.1 pins torch==2.10.0"


@pytest.mark.skipif(not HAS_GCC, reason="gcc is needed to build real ELF shared objects")
@pytest.mark.parametrize(
    ("soname", "torch_cuda", "status"),
    [("libcudart.so.13", "13.0", "pass"), ("libcudart.so.12", "12.9", "pass"), ("libcudart.so.13", "12.8", "fail")],
)
def test_vllm_cuda_build_reads_dt_needed(
    target_env: TargetEnv, tmp_path: Path, soname: str, torch_cuda: str, status: str
) -> None:
    target_env.add_vllm_release("0.20.0")
    so = build_shared_object(tmp_path / "build", "_C_stable_libtorch.abi3.so", soname)
    shutil.copy(so, target_env.site / "vllm" / "_C_stable_libtorch.abi3.so")
    add_torch(target_env, f"2.11.0+cu{torch_cuda.replace('.', '')}", torch_cuda)
    _, report = run_json("--python", str(target_env.python), "--select", "vllm.cuda-build")
    result = by_id(report)["vllm.cuda-build"]
    assert result["status"] == status, result
    assert result["evidence"]["cuda_major"] == int(soname.rsplit(".", 1)[1])
    assert soname in result["message"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "not an ELF"), (b"\x7fELF\x02\x01\x01" + b"\0" * 20, "truncated"), (b"#!/bin/sh\n", "not an ELF")],
)
def test_vllm_cuda_build_on_malformed_objects_is_an_error(target_env: TargetEnv, content: bytes, expected: str) -> None:
    target_env.add_vllm_release("0.16.0")
    (target_env.site / "vllm" / "_C.abi3.so").write_bytes(content)
    _, report = run_json("--python", str(target_env.python), "--select", "vllm.cuda-build")
    result = by_id(report)["vllm.cuda-build"]
    assert result["status"] == "error"
    assert expected in result["message"]


def test_vllm_without_compiled_extension_warns(target_env: TargetEnv) -> None:
    target_env.add_vllm_release("0.16.0")
    _, report = run_json("--python", str(target_env.python), "--select", "vllm.cuda-build")
    assert by_id(report)["vllm.cuda-build"]["status"] == "warn"


def test_elf_reader_on_real_objects_of_this_machine() -> None:
    candidates = ["/bin/ls", "/usr/bin/python3"]
    real = next((path for path in candidates if os.path.exists(path)), None)
    if real is None:
        pytest.skip("no ELF executable found")
    needed = needed_libraries(os.path.realpath(real))
    assert any(name.startswith("libc.so") for name in needed)
    readelf = shutil.which("readelf")
    if readelf:
        listed = subprocess.run(
            [readelf, "-d", os.path.realpath(real)], capture_output=True, text=True, check=False
        ).stdout
        assert needed == re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", listed)


@pytest.mark.parametrize("cut", [4, 17, 60, 200])
def test_elf_reader_on_truncated_objects(tmp_path: Path, cut: int) -> None:
    real = Path(os.path.realpath("/bin/ls"))
    broken = tmp_path / "broken.so"
    broken.write_bytes(real.read_bytes()[:cut])
    with pytest.raises(ElfError):
        needed_libraries(str(broken))


# --- DeepGEMM ----------------------------------------------------------------------------------------

VENDORED_020_INIT = (WHEELS / "vllm-0.20.0/vllm/third_party/deep_gemm/__init__.py").read_text()
VENDORED_033_INIT = (WHEELS / "vllm-0.33.0/vllm/third_party/deep_gemm/__init__.py").read_text()
DEEPGEMM_211_INIT = (
    "from deep_gemm_cpp import (\n    fp8_mqa_logits,\n    fp8_paged_mqa_logits,\n)\n__version__ = '2.1.1'\n"
)


def add_vllm_with_glue(env: TargetEnv, release: str) -> None:
    env.add_vllm_release(release)
    glue = (WHEELS / f"vllm-{release}/vllm/utils/deep_gemm.py").read_text()
    (env.site / "vllm" / "utils").mkdir(exist_ok=True)
    (env.site / "vllm" / "utils" / "deep_gemm.py").write_text(glue)


def deepgemm_results(env: TargetEnv) -> dict[str, dict]:
    _, report = run_json("--python", str(env.python), "--select", "deepgemm", env=doctor_env())
    return by_id(report)


def test_vllm_016_without_deepgemm_quotes_the_runtime_error(target_env: TargetEnv) -> None:
    add_vllm_with_glue(target_env, "0.16.0")
    results = deepgemm_results(target_env)
    installed = results["deepgemm.installed"]
    assert installed["status"] == "fail"
    assert "DeepGEMM backend is not available or outdated" in installed["message"]
    assert "never `pip install deep-gemm`" in installed["message"]
    assert results["deepgemm.kernels"]["status"] == "skip"
    assert results["deepgemm.shadowing"]["status"] == "skip"


def test_vllm_016_with_a_good_external_deepgemm(target_env: TargetEnv) -> None:
    add_vllm_with_glue(target_env, "0.16.0")
    suffix = ext_suffix(target_env.python)
    add_deep_gemm(target_env.site / "deep_gemm", init=DEEPGEMM_211_INIT, extensions=[])
    (target_env.site / f"deep_gemm_cpp{suffix}").write_bytes(b"\x7fELF")
    results = deepgemm_results(target_env)
    assert results["deepgemm.installed"]["status"] == "pass", results["deepgemm.installed"]
    assert results["deepgemm.kernels"]["status"] == "pass"
    assert results["deepgemm.kernels"]["evidence"]["needed"] == ["fp8_mqa_logits", "fp8_paged_mqa_logits"]
    assert results["deepgemm.kernels"]["evidence"]["needed_from"] == "vllm/utils/deep_gemm.py"
    assert results["deepgemm.cutlass-headers"]["status"] == "pass"


def test_clone_without_recursive_has_no_cutlass(target_env: TargetEnv) -> None:
    add_vllm_with_glue(target_env, "0.16.0")
    suffix = ext_suffix(target_env.python)
    add_deep_gemm(target_env.site / "deep_gemm", init=DEEPGEMM_211_INIT, extensions=[f"_C{suffix}"], headers=False)
    headers = deepgemm_results(target_env)["deepgemm.cutlass-headers"]
    assert headers["status"] == "fail"
    assert "cutlass/arch/barrier.h" in headers["message"] and "--recursive" in headers["message"]
    assert headers["evidence"]["missing"] == ["cutlass/arch/barrier.h", "cute/arch/cluster_sm90.hpp"]


def test_pypi_deep_gemm_100_sdist_is_named_as_the_trap(target_env: TargetEnv) -> None:
    """The real deep_gemm/ files of PyPI's deep-gemm 1.0.0 sdist, laid out as an installed package."""
    add_vllm_with_glue(target_env, "0.16.0")
    shutil.copytree(FIXTURES / "pypi-deep-gemm-1.0.0" / "deep_gemm", target_env.site / "deep_gemm")
    target_env.add_dist("deep_gemm", "1.0.0")
    installed = deepgemm_results(target_env)["deepgemm.installed"]
    assert installed["status"] == "fail"
    assert "PyPI deep-gemm 1.0.0 snapshot" in installed["message"]


def test_deep_gemm_folder_without_init_is_named(target_env: TargetEnv) -> None:
    add_vllm_with_glue(target_env, "0.16.0")
    add_deep_gemm(target_env.site / "deep_gemm", init=None, extensions=[])
    installed = deepgemm_results(target_env)["deepgemm.installed"]
    assert installed["status"] == "fail"
    assert "namespace package" in installed["message"]


def test_vllm_020_vendored_copy_only_for_cpython_312(target_env: TargetEnv) -> None:
    """vLLM 0.20.0 shipped vendored DeepGEMM with _C.cpython-312 only; another Python cannot load it."""
    add_vllm_with_glue(target_env, "0.20.0")
    vendored = target_env.site / "vllm" / "third_party" / "deep_gemm"
    add_deep_gemm(vendored, init=VENDORED_020_INIT, extensions=["_C.cpython-312-x86_64-linux-gnu.so"])
    installed = deepgemm_results(target_env)["deepgemm.installed"]
    if ext_suffix(target_env.python) == ".cpython-312-x86_64-linux-gnu.so":
        assert installed["status"] == "pass"
    else:
        assert installed["status"] == "fail"
        assert "_C.cpython-312-x86_64-linux-gnu.so" in installed["message"]
        assert "vLLM 0.21+" in installed["message"]


def test_vllm_033_vendored_abi3_copy_passes_everything(target_env: TargetEnv) -> None:
    add_vllm_with_glue(target_env, "0.33.0")
    vendored = target_env.site / "vllm" / "third_party" / "deep_gemm"
    add_deep_gemm(vendored, init=VENDORED_033_INIT, extensions=["_C_extension.abi3.so"])
    results = deepgemm_results(target_env)
    for check_id in ("deepgemm.installed", "deepgemm.kernels", "deepgemm.cutlass-headers", "deepgemm.shadowing"):
        assert results[check_id]["status"] == "pass", results[check_id]
    assert results["deepgemm.kernels"]["evidence"]["needed"] == ["fp8_fp4_mqa_logits", "fp8_fp4_paged_mqa_logits"]


def test_stale_external_deepgemm_shadows_vendored_and_lacks_new_kernels(target_env: TargetEnv) -> None:
    """A DeepGEMM 2.1.1 from 0.16-era instructions wins on vLLM 0.20+ and lacks the fp8_fp4_ names."""
    add_vllm_with_glue(target_env, "0.20.0")
    suffix = ext_suffix(target_env.python)
    vendored = target_env.site / "vllm" / "third_party" / "deep_gemm"
    add_deep_gemm(vendored, init=VENDORED_020_INIT, extensions=[f"_C{suffix}"])
    add_deep_gemm(target_env.site / "deep_gemm", init=DEEPGEMM_211_INIT, extensions=[f"_C{suffix}"])
    results = deepgemm_results(target_env)
    assert results["deepgemm.shadowing"]["status"] == "warn"
    assert "2.1.1" in results["deepgemm.shadowing"]["message"] and "2.5.0" in results["deepgemm.shadowing"]["message"]
    assert results["deepgemm.kernels"]["status"] == "fail"
    assert "fp8_fp4_mqa_logits" in results["deepgemm.kernels"]["message"]


def test_external_copy_that_cannot_load_falls_back_to_vendored(target_env: TargetEnv) -> None:
    add_vllm_with_glue(target_env, "0.21.0" if (WHEELS / "vllm-0.21.0").exists() else "0.20.0")
    suffix = ext_suffix(target_env.python)
    vendored = target_env.site / "vllm" / "third_party" / "deep_gemm"
    add_deep_gemm(vendored, init=VENDORED_020_INIT, extensions=[f"_C{suffix}"])
    add_deep_gemm(
        target_env.site / "deep_gemm", init=DEEPGEMM_211_INIT, extensions=["_C.cpython-39-x86_64-linux-gnu.so"]
    )
    results = deepgemm_results(target_env)
    assert results["deepgemm.installed"]["status"] == "pass"
    assert "falls back" in results["deepgemm.installed"]["message"]
    assert results["deepgemm.shadowing"]["status"] == "warn"


def test_jit_cache_that_cannot_be_created_fails(target_env: TargetEnv, tmp_path: Path) -> None:
    """Root ignores permission bits, so the portable case is a path under a regular file; as another
    user a read-only parent folder is tested too."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    target = str(blocker / "cache")
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = str(locked / "cache")
    _, report = run_json(
        "--python", str(target_env.python), "--select", "deepgemm.jit-cache", env=doctor_env(DG_JIT_CACHE_DIR=target)
    )
    result = by_id(report)["deepgemm.jit-cache"]
    assert result["status"] == "fail"
    assert result["evidence"]["source"] == "DG_JIT_CACHE_DIR"


def test_jit_cache_follows_vllm_cache_root(target_env: TargetEnv, tmp_path: Path) -> None:
    _, report = run_json(
        "--python",
        str(target_env.python),
        "--select",
        "deepgemm.jit-cache",
        env=doctor_env(VLLM_CACHE_ROOT=str(tmp_path / "vllm-cache")),
    )
    result = by_id(report)["deepgemm.jit-cache"]
    assert result["status"] == "pass"
    assert result["evidence"]["path"] == str(tmp_path / "vllm-cache" / "deep_gemm")
    assert not (tmp_path / "vllm-cache").exists(), "the probe must not create the directory"


# --- flashinfer ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("python_version", "cubin", "status", "expected"),
    [
        ("0.6.6", "0.6.6", "pass", "as vLLM 0.19.1 pins"),
        ("0.6.6", "0.6.5", "fail", "flashinfer-cubin version (0.6.5) does not match flashinfer version (0.6.6)"),
        ("0.6.5", "0.6.5", "fail", "not vLLM 0.19.1's pin"),
        ("0.6.6+cu129", None, "pass", "flashinfer-python 0.6.6+cu129"),
    ],
)
def test_flashinfer_versions(
    target_env: TargetEnv, python_version: str, cubin: str | None, status: str, expected: str
) -> None:
    target_env.add_vllm_release("0.19.1")
    target_env.add_dist("flashinfer-python", python_version)
    if cubin:
        target_env.add_dist("flashinfer-cubin", cubin)
    _, report = run_json("--python", str(target_env.python), "--select", "flashinfer.versions")
    result = by_id(report)["flashinfer.versions"]
    assert result["status"] == status, result
    assert expected in result["message"]


# --- cuda.compile-probe --------------------------------------------------------------------------


def _compile_env(target_env: TargetEnv, tmp_path: Path, headers: bool) -> None:
    add_vllm_with_glue(target_env, "0.33.0")
    vendored = target_env.site / "vllm" / "third_party" / "deep_gemm"
    add_deep_gemm(vendored, init=VENDORED_033_INIT, extensions=["_C_extension.abi3.so"], headers=headers)


def test_compile_probe_is_skipped_without_deep(target_env: TargetEnv) -> None:
    _, report = run_json("--python", str(target_env.python), "--select", "cuda.compile-probe")
    result = by_id(report)["cuda.compile-probe"]
    assert result["status"] == "skip"
    assert "--deep" in result["message"]


def _real_cuda_home() -> str | None:
    for home in ("/usr/local/cuda", os.environ.get("CUDA_HOME")):
        if home and os.path.isfile(os.path.join(home, "bin", "nvcc")):
            return home
    return None


@pytest.mark.slow
def test_compile_probe_compiles_with_real_nvcc_and_real_cutlass(target_env: TargetEnv, tmp_path: Path) -> None:
    home = _real_cuda_home()
    if home is None:
        pytest.skip("no real nvcc (CUDA toolkit) on this machine")
    _compile_env(target_env, tmp_path, headers=True)
    _, report = run_json(
        "--python",
        str(target_env.python),
        "--select",
        "cuda.compile-probe",
        "--deep",
        "--gpu",
        "B200",
        env=doctor_env(CUDA_HOME=home),
    )
    result = by_id(report)["cuda.compile-probe"]
    assert result["status"] == "pass", result
    assert result["evidence"]["arch"] == "sm_100a"
    assert "-std=c++20" in result["evidence"]["command"]


@pytest.mark.slow
def test_compile_probe_fails_clearly_without_headers(target_env: TargetEnv, tmp_path: Path) -> None:
    home = _real_cuda_home()
    if home is None:
        pytest.skip("no real nvcc (CUDA toolkit) on this machine")
    _compile_env(target_env, tmp_path, headers=False)
    _, report = run_json(
        "--python",
        str(target_env.python),
        "--select",
        "cuda.compile-probe",
        "--deep",
        "--gpu",
        "B200",
        env=doctor_env(CUDA_HOME=home),
    )
    result = by_id(report)["cuda.compile-probe"]
    assert result["status"] == "fail"
    assert "cutlass/arch/barrier.h" in result["message"]
    assert "No such file or directory" in result["message"]
