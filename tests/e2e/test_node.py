"""What people hit next on the node, each situation built for real: caches another user cannot write,
Triton's ptxas (fakes printing the real --version texts), extensions built with g++ against a stand-in
libc10.so, DeepGEMM's warm-up against vLLM's real envs.py, NVLink multicast and IMEX through the fake NVML."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    FIXTURES,
    WHEELS,
    TargetEnv,
    add_deep_gemm,
    build_fake_nvml,
    by_id,
    doctor_env,
    ext_suffix,
    nvml_env,
    run_json,
    scenario_lines,
)

PTXAS_OUTPUTS = FIXTURES / "ptxas"
HAS_GXX = shutil.which("g++") is not None
NOBODY = 65534


def _can_run_as_nobody() -> str | None:
    """None when this machine can run the doctor as another user, else why not."""
    if os.geteuid() != 0:
        return None  # not root: permissions already apply to us
    if shutil.which("setpriv") is None:
        return "running as root without setpriv: cannot drop to a user that permissions apply to"
    probe = subprocess.run(
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            sys.executable,
            "-c",
            "import glm5_doctor",
        ],
        capture_output=True,
        check=False,
    )
    return (
        None if probe.returncode == 0 else f"setpriv to uid {NOBODY} cannot import the doctor: {probe.stderr[-200:]!r}"
    )


# --- cache.writable ---------------------------------------------------------------------------------


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder everyone may write (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="glm5-doctor-caches-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def caches_as_server_user(**environ: str | None) -> dict:
    env = doctor_env(**environ)
    argv = [sys.executable, "-m", "glm5_doctor", "run", "--format", "json", "--select", "cache.writable"]
    if os.geteuid() == 0:
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]
    completed = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=60, cwd="/")
    assert completed.stdout, completed.stderr
    import json

    return by_id(json.loads(completed.stdout))["cache.writable"]


def test_home_slash_as_an_arbitrary_user_fails_and_the_variables_fix_it(shared_dir: Path) -> None:
    """OpenShift runs images with HOME=/ and an arbitrary UID: ~/.cache is /.cache, which it cannot create."""
    reason = _can_run_as_nobody()
    if reason:
        pytest.skip(reason)
    # Triton's and inductor's caches are pointed somewhere writable: on a machine whose Python has them
    # (a GPU node) they would otherwise join the list; the test is about the two below.
    others = {"TRITON_CACHE_DIR": str(shared_dir / "triton"), "TORCHINDUCTOR_CACHE_DIR": str(shared_dir / "inductor")}
    result = caches_as_server_user(
        HOME="/", XDG_CACHE_HOME=None, VLLM_CACHE_ROOT=None, HF_HOME=None, HF_HUB_CACHE=None, **others
    )
    assert result["status"] == "fail", result
    assert "/.cache/vllm" in result["message"] and "VLLM_CACHE_ROOT" in result["message"]
    assert result["evidence"]["variables_to_set"] == ["HF_HOME", "VLLM_CACHE_ROOT"]
    assert result["fix"]["script"] == "set-cache-dirs.sh"
    fixed = caches_as_server_user(
        HOME="/",
        VLLM_CACHE_ROOT=str(shared_dir / "vllm"),
        HF_HOME=str(shared_dir / "hf"),
        XDG_CACHE_HOME=None,
        **others,
    )
    assert fixed["status"] == "pass", fixed
    assert not (shared_dir / "vllm").exists(), "the probe must not create the directory"


def test_a_read_only_existing_cache_fails_for_the_server_user(shared_dir: Path) -> None:
    reason = _can_run_as_nobody()
    if reason:
        pytest.skip(reason)
    locked = shared_dir / "root-owned"
    locked.mkdir(mode=0o755)  # root's, like a site-packages FlashInfer downloads into
    result = caches_as_server_user(HOME=str(shared_dir), VLLM_CACHE_ROOT=str(locked), HF_HOME=str(shared_dir / "hf"))
    assert result["status"] == "fail", result
    assert f"{locked} (from VLLM_CACHE_ROOT)" in result["message"] and "is not writable" in result["message"]


def test_cache_paths_follow_each_library_s_variables(target_env: TargetEnv, tmp_path: Path) -> None:
    for package in ("triton", "torch", "flashinfer", "flashinfer_cubin"):
        target_env.add_dist(package.replace("_", "-"), "1.0.0", files={f"{package}/__init__.py": ""})
    _, report = run_json(
        "--python",
        str(target_env.python),
        "--select",
        "cache.writable",
        env=doctor_env(
            HOME=str(tmp_path / "home"),
            XDG_CACHE_HOME=str(tmp_path / "xdg"),
            TRITON_HOME=str(tmp_path / "triton-home"),
            TMPDIR=str(tmp_path / "tmp"),
            FLASHINFER_WORKSPACE_BASE=str(tmp_path / "fi"),
            VLLM_CACHE_ROOT=None,
            HF_HOME=None,
            HF_HUB_CACHE=None,
            TRITON_CACHE_DIR=None,
            TORCHINDUCTOR_CACHE_DIR=None,
            FLASHINFER_CUBIN_DIR=str(tmp_path / "ignored-while-the-package-is-installed"),
        ),
    )
    caches = by_id(report)["cache.writable"]["evidence"]["caches"]
    assert caches["vllm: torch.compile and other vLLM caches"] == f"{tmp_path}/xdg/vllm (from XDG_CACHE_HOME)"
    assert (
        caches["huggingface_hub: model downloads and tokenizer files"]
        == f"{tmp_path}/xdg/huggingface/hub (from default)"
    )
    assert caches["triton: compiled Triton kernels"] == f"{tmp_path}/triton-home/.triton/cache (from default)"
    assert caches["torch inductor: inductor's generated kernels"].startswith(f"{tmp_path}/tmp/torchinductor_")
    assert (
        caches["flashinfer: JIT-built kernels"] == f"{tmp_path}/fi/.cache/flashinfer (from FLASHINFER_WORKSPACE_BASE)"
    )
    assert caches["flashinfer: downloaded cubins"] == (
        f"{target_env.site}/flashinfer_cubin/cubins (from the flashinfer-cubin package)"
    )


# --- triton.ptxas -------------------------------------------------------------------------------------


def fake_ptxas(path: Path, release: str | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = f"cat '{PTXAS_OUTPUTS / f'{release}.txt'}'" if release else "echo 'ptxas: cannot run' >&2; exit 1"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def add_triton(env: TargetEnv, version: str, ptxas: str, blackwell: str | None) -> Path:
    env.add_dist("triton", version, files={"triton/__init__.py": f"__version__ = '{version}'\n"})
    bin_dir = env.site / "triton" / "backends" / "nvidia" / "bin"
    fake_ptxas(bin_dir / "ptxas", ptxas)
    if blackwell:
        fake_ptxas(bin_dir / "ptxas-blackwell", blackwell)
    return bin_dir


def ptxas_result(env: TargetEnv, gpu: str, **environ: str | None) -> dict:
    _, report = run_json(
        "--python", str(env.python), "--select", "triton.ptxas", "--gpu", gpu, env=doctor_env(**environ)
    )
    return by_id(report)["triton.ptxas"]


def test_triton_35_bundled_ptxas_cannot_assemble_for_b300(target_env: TargetEnv) -> None:
    add_triton(target_env, "3.5.0", "12.8", None)
    result = ptxas_result(target_env, "B300", TRITON_PTXAS_PATH=None)
    assert result["status"] == "fail", result
    assert "Value 'sm_103a' is not defined for option 'gpu-name'" in result["message"]
    assert result["evidence"]["release"] == "12.8" and result["evidence"]["needs"] == "12.9"
    assert "set TRITON_PTXAS_PATH" in result["message"]
    assert ptxas_result(target_env, "B200", TRITON_PTXAS_PATH=None)["status"] == "pass"


def test_triton_ptxas_path_to_a_cuda_13_ptxas_fixes_b300(target_env: TargetEnv, tmp_path: Path) -> None:
    add_triton(target_env, "3.5.0", "12.8", None)
    toolkit = fake_ptxas(tmp_path / "cuda-13.0" / "bin" / "ptxas", "13.0")
    result = ptxas_result(target_env, "B300", TRITON_PTXAS_PATH=str(toolkit))
    assert result["status"] == "pass", result
    assert result["evidence"]["source"] == "TRITON_PTXAS_PATH" and result["evidence"]["release"] == "13.0"


def test_a_broken_triton_ptxas_path_falls_back_to_the_bundled_one_as_triton_does(
    target_env: TargetEnv, tmp_path: Path
) -> None:
    add_triton(target_env, "3.5.0", "12.8", None)
    broken = fake_ptxas(tmp_path / "broken" / "ptxas", None)
    result = ptxas_result(target_env, "B300", TRITON_PTXAS_PATH=str(broken))
    assert result["status"] == "fail", result
    assert result["evidence"]["source"] == "bundled"
    assert "was passed over" in result["message"]


def test_triton_36_uses_ptxas_blackwell_for_capability_10_and_above(target_env: TargetEnv) -> None:
    add_triton(target_env, "3.6.0", "12.8", "12.9")
    result = ptxas_result(target_env, "B300", TRITON_PTXAS_PATH=None, TRITON_PTXAS_BLACKWELL_PATH=None)
    assert result["status"] == "pass", result
    assert result["evidence"]["tool"] == "ptxas-blackwell" and result["evidence"]["release"] == "12.9"
    hopper = ptxas_result(target_env, "H200", TRITON_PTXAS_PATH=None)
    assert hopper["status"] == "pass" and hopper["evidence"]["tool"] == "ptxas"


def test_real_cuda_ptxas_next_to_nvcc_if_present(target_env: TargetEnv) -> None:
    real = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    if not os.path.isfile(real):
        pytest.skip("no real ptxas on this machine")
    add_triton(target_env, "3.5.0", "12.8", None)
    result = ptxas_result(target_env, "B300", TRITON_PTXAS_PATH=real)
    assert result["evidence"]["path"] == real
    assert result["status"] == (
        "pass" if tuple(map(int, result["evidence"]["release"].split("."))) >= (12, 9) else "fail"
    )


# --- extension ABI --------------------------------------------------------------------------------------

LIBC10_EXPECTED = """#include <string>
namespace c10 { namespace detail {
void torchCheckFail(const char*, const char*, unsigned int, const std::string&) {}
} }
"""
LIBC10_OTHER = """namespace c10 { namespace detail {
void torchCheckFail(const char*, const char*, unsigned int, const char*) {}
} }
"""
EXTENSION = """#include <string>
namespace c10 { namespace detail {
void torchCheckFail(const char*, const char*, unsigned int, const std::string&);
} }
extern "C" void ext_op(int ok) { if (!ok) c10::detail::torchCheckFail("f", "file", 1, std::string("m")); }
"""
TORCH_CHECK_FAIL = "_ZN3c106detail14torchCheckFailEPKcS2_jRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE"


def gxx(source: str, target: Path, *extra: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    source_file = target.with_suffix(".cpp")
    source_file.write_text(source)
    subprocess.run(
        ["g++", "-shared", "-fPIC", "-o", str(target), str(source_file), *extra], check=True, capture_output=True
    )
    source_file.unlink()
    return target


def torch_with_libc10(env: TargetEnv, source: str) -> None:
    env.add_dist("torch", "2.10.0", files={"torch/__init__.py": "", "torch/version.py": "__version__ = '2.10.0'\n"})
    gxx(source, env.site / "torch" / "lib" / "libc10.so")


@pytest.mark.skipif(not HAS_GXX, reason="needs g++ to build the ELF files")
@pytest.mark.parametrize(("libc10", "status"), [(LIBC10_EXPECTED, "pass"), (LIBC10_OTHER, "fail")])
def test_vllm_extension_against_the_installed_torch(
    target_env: TargetEnv, tmp_path: Path, libc10: str, status: str
) -> None:
    target_env.add_vllm_release("0.19.1")
    gxx(LIBC10_EXPECTED, tmp_path / "build" / "libc10.so")  # the torch it was built against
    gxx(EXTENSION, target_env.site / "vllm" / "_C.abi3.so", f"-L{tmp_path / 'build'}", "-lc10")
    torch_with_libc10(target_env, libc10)
    _, report = run_json("--python", str(target_env.python), "--select", "vllm", env=doctor_env())
    result = by_id(report)["vllm.torch-abi"]
    assert result["status"] == status, result
    if status == "fail":
        assert TORCH_CHECK_FAIL in result["message"] and "undefined symbol" in result["message"]
        assert result["fix"]["script"] == "install-torch.sh"


@pytest.mark.skipif(not HAS_GXX, reason="needs g++ to build the ELF files")
def test_deepgemm_built_against_another_torch_names_the_missing_symbol(target_env: TargetEnv, tmp_path: Path) -> None:
    target_env.add_vllm_release("0.16.0")
    suffix = ext_suffix(target_env.python)
    add_deep_gemm(
        target_env.site / "deep_gemm",
        init="from deep_gemm._C import fp8_mqa_logits, fp8_paged_mqa_logits\n__version__ = '2.3.0'\n",
        extensions=[],
    )
    gxx(LIBC10_EXPECTED, tmp_path / "build" / "libc10.so")
    gxx(EXTENSION, target_env.site / "deep_gemm" / f"_C{suffix}", f"-L{tmp_path / 'build'}", "-lc10")
    torch_with_libc10(target_env, LIBC10_OTHER)
    _, report = run_json("--python", str(target_env.python), "--select", "deepgemm,vllm", env=doctor_env())
    result = by_id(report)["deepgemm.torch-abi"]
    assert result["status"] == "fail", result
    assert TORCH_CHECK_FAIL in result["message"]
    assert result["fix"]["script"] == "install-deepgemm.sh"
    torch_with_libc10(target_env, LIBC10_EXPECTED)
    _, report = run_json("--python", str(target_env.python), "--select", "deepgemm,vllm", env=doctor_env())
    assert by_id(report)["deepgemm.torch-abi"]["status"] == "pass"


# --- deepgemm.warmup ------------------------------------------------------------------------------------


def vllm_with_envs(env: TargetEnv) -> None:
    env.add_vllm_release("0.19.1")
    (env.site / "vllm" / "envs.py").write_text((WHEELS / "vllm-0.19.1/vllm/envs.py").read_text())


def warmup_result(env: TargetEnv, *args: str, **environ: str | None) -> dict:
    _, report = run_json(
        "--python", str(env.python), "--select", "vllm,deepgemm.warmup", *args, env=doctor_env(**environ)
    )
    return by_id(report)["deepgemm.warmup"]


def test_cold_cache_with_the_default_timeout_warns_with_the_numbers(target_env: TargetEnv, tmp_path: Path) -> None:
    vllm_with_envs(target_env)
    cache = tmp_path / "dg"
    result = warmup_result(
        target_env, DG_JIT_CACHE_DIR=str(cache), VLLM_ENGINE_READY_TIMEOUT_S=None, VLLM_DEEP_GEMM_WARMUP=None
    )
    assert result["status"] == "warn", result
    assert "600 s" in result["message"] and "VLLM_ENGINE_READY_TIMEOUT_S" in result["message"]
    assert result["evidence"]["warmup_default"] == "relax" and result["evidence"]["timeout_default_s"] == 600
    assert result["fix"]["script"] == "raise-engine-ready-timeout.sh"
    # warm cache: DeepGEMM's layout <dir>/cache/kernel.<name>.<hash>
    (cache / "cache" / "kernel.fp8_mqa_logits.0123abcd").mkdir(parents=True)
    assert warmup_result(target_env, DG_JIT_CACHE_DIR=str(cache))["status"] == "pass"


@pytest.mark.parametrize(
    ("variable", "value"), [("VLLM_ENGINE_READY_TIMEOUT_S", "3600"), ("VLLM_DEEP_GEMM_WARMUP", "skip")]
)
def test_either_remedy_passes(target_env: TargetEnv, tmp_path: Path, variable: str, value: str) -> None:
    vllm_with_envs(target_env)
    result = warmup_result(target_env, DG_JIT_CACHE_DIR=str(tmp_path / "dg"), **{variable: value})
    assert result["status"] == "pass", result


# --- NVLink multicast and IMEX (fake NVML) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_nvml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_nvml(tmp_path_factory.mktemp("fake-nvml"))


def device_root(root: Path, *, caps: bool = True, imex_major: int | None = None, channels: int = 0) -> Path:
    (root / "proc").mkdir(parents=True)
    lines = ["Character devices:", "195 nvidia", "195 nvidiactl"]
    if imex_major is not None:
        lines.append(f"{imex_major} nvidia-caps-imex-channels")
    (root / "proc" / "devices").write_text("\n".join(lines) + "\n")
    (root / "dev").mkdir()
    if caps:
        (root / "dev" / "nvidia-caps").mkdir()
    if channels:
        (root / "dev" / "nvidia-caps-imex-channels").mkdir()
        for number in range(channels):
            (root / "dev" / "nvidia-caps-imex-channels" / f"channel{number}").write_text("")
    return root


def nvlink_results(
    fake_nvml: Path, tmp_path: Path, target: TargetEnv, scenario: dict, root: Path, *args: str, **environ: str | None
) -> dict:
    env = nvml_env(fake_nvml, scenario, tmp_path / "nvml", GLM5_DOCTOR_DEVICE_ROOT=str(root), **environ)
    _, report = run_json("--python", str(target.python), "--select", "gpu", *args, env=env)
    return by_id(report)


def test_unhealthy_fabric_warns_and_nvls_off_passes(fake_nvml: Path, tmp_path: Path, target_env: TargetEnv) -> None:
    root = device_root(tmp_path / "root")
    results = nvlink_results(
        fake_nvml, tmp_path, target_env, scenario_lines("fabric-unhealthy"), root, NCCL_NVLS_ENABLE=None
    )
    result = results["gpu.nvlink-multicast"]
    assert result["status"] == "warn", result
    assert "UNHEALTHY" in result["message"] and "NCCL_NVLS_ENABLE=0" in result["message"]
    assert result["evidence"]["fabric"]["GPU 0 (NVIDIA B200)"]["health_summary"] == 2
    off = nvlink_results(
        fake_nvml, tmp_path, target_env, scenario_lines("fabric-unhealthy"), root, NCCL_NVLS_ENABLE="0"
    )
    assert off["gpu.nvlink-multicast"]["status"] == "pass"


def test_healthy_fabric_without_dev_nvidia_caps_in_the_container_warns(
    fake_nvml: Path, tmp_path: Path, target_env: TargetEnv
) -> None:
    bare = nvlink_results(
        fake_nvml, tmp_path, target_env, scenario_lines("b200x8"), device_root(tmp_path / "bare", caps=False)
    )
    assert bare["gpu.nvlink-multicast"]["status"] == "warn"
    assert "/dev/nvidia-caps" in bare["gpu.nvlink-multicast"]["message"]
    assert bare["gpu.imex"]["status"] == "skip", "a single-node HGX has no multi-node NVLink domain"
    full = nvlink_results(fake_nvml, tmp_path, target_env, scenario_lines("b200x8"), device_root(tmp_path / "full"))
    assert full["gpu.nvlink-multicast"]["status"] == "pass"


def test_a_driver_that_only_knows_fabric_info_v2_still_answers(
    fake_nvml: Path, tmp_path: Path, target_env: TargetEnv
) -> None:
    results = nvlink_results(
        fake_nvml, tmp_path, target_env, scenario_lines("fabric-v2-driver"), device_root(tmp_path / "r")
    )
    fabric = results["gpu.nvlink-multicast"]["evidence"]["fabric"]["GPU 0 (NVIDIA B200)"]
    assert fabric["state"] == 3 and fabric["health_summary"] is None
    assert results["gpu.nvlink-multicast"]["status"] == "pass"


def test_mnnvl_without_an_imex_channel_warns_and_a_channel_passes(
    fake_nvml: Path, tmp_path: Path, target_env: TargetEnv
) -> None:
    scenario = scenario_lines("gb200-mnnvl")
    missing = nvlink_results(
        fake_nvml, tmp_path, target_env, scenario, device_root(tmp_path / "a", imex_major=234), "--tp", "4"
    )
    imex = missing["gpu.imex"]
    assert imex["status"] == "warn", imex
    assert "Check the IMEX channel configuration" in imex["message"] and "NCCL_MNNVL_ENABLE=0" in imex["message"]
    assert imex["fix"]["script"] == "disable-nvlink-features.sh"
    present = nvlink_results(
        fake_nvml, tmp_path, target_env, scenario, device_root(tmp_path / "b", imex_major=234, channels=1), "--tp", "4"
    )
    assert present["gpu.imex"]["status"] == "pass", present["gpu.imex"]
