#!/usr/bin/env bash
# Summary: build and install DeepGEMM from source, with its CUTLASS submodule, at the revision the
#          installed vLLM's own tools/install_deepgemm.sh names, into the target environment.
#          Never `pip install deep-gemm` (PyPI's 1.0.0 is an early-2025 snapshot without GLM-5's kernels).
# Needs root: no (needs git, nvcc >= 12.9 for B200, and network access to github.com).
# Verifies: deepgemm.installed, deepgemm.kernels, deepgemm.cutlass-headers, deepgemm.torch-abi
# Inputs: PYTHON          the target interpreter (default: python3 on PATH); never a bare `pip`.
#         VLLM_VERSION    the installed vLLM (default: read from PYTHON's metadata).
#         DEEPGEMM_REPO / DEEPGEMM_REF  override the repository and revision vLLM names.
#         DRY_RUN=1       print the commands instead of running them.
set -euo pipefail

PYTHON="${PYTHON:-python3}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if [ -z "${VLLM_VERSION:-}" ]; then
  VLLM_VERSION=$("$PYTHON" -c 'from importlib.metadata import version; print(version("vllm"))' 2>/dev/null || true)
fi
if [ -z "${DEEPGEMM_REF:-}" ]; then
  if [ -z "$VLLM_VERSION" ]; then
    echo "cannot tell the installed vLLM version; set VLLM_VERSION or DEEPGEMM_REF" >&2
    exit 1
  fi
  tag="v${VLLM_VERSION%%+*}"
  script_url="https://raw.githubusercontent.com/vllm-project/vllm/${tag}/tools/install_deepgemm.sh"
  echo "reading the DeepGEMM revision vLLM ${VLLM_VERSION} expects from ${script_url}"
  if [ "${DRY_RUN:-0}" = "1" ]; then  # a preview stays off the network: it says what it would read
    run curl -fsSL "$script_url"
    pinned='DEEPGEMM_GIT_REF="<the revision named there>"'
  else
    pinned=$(curl -fsSL "$script_url" || true)
  fi
  # shellcheck disable=SC2016 # the sed patterns match a literal ${VAR:-default} in vLLM's script
  DEEPGEMM_REF=$(printf '%s\n' "$pinned" | sed -n 's/^DEEPGEMM_GIT_REF="\${DEEPGEMM_GIT_REF:-\([^}"]*\)}"$/\1/p; s/^DEEPGEMM_GIT_REF="\([^"$]*\)"$/\1/p' | head -n1)
  # shellcheck disable=SC2016
  DEEPGEMM_REPO="${DEEPGEMM_REPO:-$(printf '%s\n' "$pinned" | sed -n 's/^DEEPGEMM_GIT_REPO="\${DEEPGEMM_GIT_REPO:-\([^}"]*\)}"$/\1/p; s/^DEEPGEMM_GIT_REPO="\([^"$]*\)"$/\1/p' | head -n1)}"
  if [ -z "$DEEPGEMM_REF" ]; then
    echo "vLLM ${VLLM_VERSION} names no DeepGEMM revision; set DEEPGEMM_REF (e.g. v2.1.1.post3)" >&2
    exit 1
  fi
fi
DEEPGEMM_REPO="${DEEPGEMM_REPO:-https://github.com/deepseek-ai/DeepGEMM.git}"

installed=$("$PYTHON" -c 'from importlib.metadata import version; print(version("deep_gemm"))' 2>/dev/null || true)
if [ -n "$installed" ] && [ "${installed#*+}" != "$installed" ] && [ "${DEEPGEMM_REF#"${installed#*+}"}" != "$DEEPGEMM_REF" ]; then
  echo "already installed: deep_gemm $installed matches $DEEPGEMM_REF"
  exit 0
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
echo "building DeepGEMM $DEEPGEMM_REF from $DEEPGEMM_REPO with $PYTHON"
run git clone --recursive --shallow-submodules "$DEEPGEMM_REPO" "$workdir/DeepGEMM"
run git -C "$workdir/DeepGEMM" checkout "$DEEPGEMM_REF"
run git -C "$workdir/DeepGEMM" submodule update --init --recursive
run "$PYTHON" -m pip wheel --no-build-isolation --no-deps -w "$workdir/dist" "$workdir/DeepGEMM"
if [ "${DRY_RUN:-0}" = "1" ]; then
  printf '+ %s\n' "$PYTHON -m pip install --force-reinstall --no-deps $workdir/dist/deep_gemm-*.whl"
else
  "$PYTHON" -m pip install --force-reinstall --no-deps "$workdir"/dist/deep_gemm-*.whl
fi
