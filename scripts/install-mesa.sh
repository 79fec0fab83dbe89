#!/usr/bin/env bash
# Mesa's EGL and software OpenGL drivers (llvmpipe), which WebGPU in Node (Dawn, backend=opengl)
# runs on when the machine has no GPU. Installs them from Debian when missing; needs root.
set -euo pipefail
# Dawn dlopens the unversioned libEGL.so, which only libegl-dev provides; libegl-mesa0 is Mesa's EGL
# vendor library and libgl1-mesa-dri holds the software rasteriser (swrast/llvmpipe).
pkgs=(libegl1 libegl-dev libegl-mesa0 libgl1-mesa-dri)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]} == 0)); then echo "mesa: already installed"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "mesa: missing ${missing[*]}; run as root or install them with apt-get" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "mesa: installed ${missing[*]}"
