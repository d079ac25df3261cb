#!/usr/bin/env bash
# Installs what segscope needs and is missing, and nothing else.
#   scripts/setup.sh          system libraries and tools (Debian packages)
#   scripts/setup.sh --refs   also the Python references the tests compare
#                             against, in a private venv at .build/pyref
#   scripts/setup.sh --bench  the references and the bench's peers: chafa (of
#                             `render`), every Debian BLAS (the BLAS table),
#                             PyTorch, onnxruntime (hundreds of MB)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libncursesw5-dev libopenblas-dev libblis4-serial libpng-dev libjpeg62-turbo-dev pkg-config tmux python3
          python3-numpy python3-venv time)
# The BLAS segscope runs is OpenBLAS (libopenblas-dev, loaded at run time with
# kernels chosen for the CPU); BLIS (libblis4-serial) is the choice
# SEGSCOPE_BLAS=blis gives. --bench installs the others to measure them.
[ "${1:-}" = "--bench" ] && packages+=(chafa libopenblas0-serial libopenblas0-pthread libopenblas0-openmp
                                       libblis4-pthread libblis4-openmp libatlas3-base libblas3)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    command=(apt-get install -y --no-install-recommends "${missing[@]}")
    if [ "$(id -u)" = 0 ]; then
        echo "setup: installing ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${command[@]}" >/dev/null
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        echo "setup: installing ${missing[*]} with sudo" >&2
        sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive "${command[@]}" >/dev/null
    else
        echo "setup: missing Debian packages; run as root:" >&2
        echo "  apt-get update && ${command[*]}" >&2
        exit 1
    fi
fi

if [ "${1:-}" = "--refs" ] || [ "${1:-}" = "--bench" ]; then
    # numpy (npy interop), safetensors (fixture cross-check), pillow (PNG and
    # JPEG cross-check, bench peer), cityscapesscripts (eval reference),
    # opencv-python-headless (the erosion of boundary-iou-api's mask_to_boundary).
    venv=.build/pyref
    if [ ! -x "$venv/bin/python3" ]; then
        mkdir -p .build
        python3 -m venv --system-site-packages "$venv"
    fi
    if ! "$venv/bin/python3" -c "import numpy, safetensors, PIL, cityscapesscripts, cv2" 2>/dev/null; then
        echo "setup: installing Python references into $venv" >&2
        "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check numpy safetensors pillow cityscapesscripts opencv-python-headless
    fi
    if [ "${1:-}" = "--bench" ] && ! "$venv/bin/python3" -c "import torch, onnx, onnxruntime, threadpoolctl" 2>/dev/null; then
        echo "setup: installing PyTorch, onnxruntime and threadpoolctl into $venv (peers in make bench)" >&2
        "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check torch onnx onnxruntime threadpoolctl
    fi
fi
