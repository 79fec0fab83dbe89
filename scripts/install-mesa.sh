#!/usr/bin/env bash
# Mesa's EGL and software OpenGL drivers (llvmpipe), which WebGPU in Node (Dawn, backend=opengl)
# runs on when the machine has no GPU. Installs them from Debian when missing; needs root.
set -euo pipefail
pkgs=(libegl1 libegl-mesa0 libgl1-mesa-dri libgles2)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]} == 0)); then echo "mesa: already installed"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "mesa: missing ${missing[*]}; run as root or install them with apt-get" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "mesa: installed ${missing[*]}"
