#!/usr/bin/env bash
# Packs the GPU check into one self-contained folder (scripts/gpu-check/README.md):
#   bash scripts/gpu-check/pack.sh DEST
# DEST gets: node.xz (this machine's Node.js binary), dawn.node.xz (Dawn for linux-x64, from the
# `webgpu` package), libvulkan1_*.deb (Debian's Vulkan loader, unpacked at run time, never
# installed), check.mjs (one bundled JavaScript file: tfjs-core, tfjs-backend-webgpu, our packages),
# reference.json (the parity case computed here on the cpu backend), prob_unet_bench.py and
# torch_layers.py (PyTorch: the step, and its 3×3 convolutions per layer),
# run.sh, merge.py and MANIFEST. It must stay under LIMIT_MIB (60) for the GPU machines' 64 MiB.
set -euo pipefail
LIMIT_MIB=${PROBUNET_GPU_PACK_LIMIT_MIB:-60}
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="${1:?usage: pack.sh DEST}"
mkdir -p "$(dirname "$dest")"
dest="$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")"
case "$(uname -m)" in x86_64) ;; *) echo "pack.sh: the GPU machines are x86-64; this is $(uname -m): pack on an x86-64 machine" >&2; exit 1 ;; esac
node_bin="$(command -v node)" || { echo "pack.sh: node is not on PATH" >&2; exit 1; }
dawn="$root/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || { echo "pack.sh: $dawn is missing: run npm ci first" >&2; exit 1; }
for tool in xz sha256sum; do command -v "$tool" >/dev/null || { echo "pack.sh: $tool is missing (apt-get install xz-utils coreutils)" >&2; exit 1; }; done

if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ] && [ ! -f "$dest/MANIFEST" ]; then
  echo "pack.sh: $dest exists and is not an earlier pack (no MANIFEST): choose an empty or new folder" >&2; exit 1
fi
# Build beside DEST and swap it in at the end: a failed pack never leaves a half-made folder.
tmp="$(mktemp -d "$(dirname "$dest")/.gpu-pack.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
log() { echo "pack.sh: $*" >&2; }

log "bundling scripts/gpu-check/check.ts"
"$root/node_modules/.bin/esbuild" "$here/check.ts" --bundle --platform=node --target=node20 --format=esm \
  --conditions=@probunet/source --legal-comments=none --log-level=warning --outfile="$tmp/check.mjs" \
  "--banner:js=import { createRequire as __probunetCreateRequire } from 'node:module'; const require = __probunetCreateRequire(import.meta.url);"

log "computing the parity reference on the cpu backend"
(cd "$tmp" && node check.mjs reference --out "$tmp" >&2)

log "compressing Node.js $(node --version) and dawn.node (xz)"
xz -T0 -6 -c "$node_bin" > "$tmp/node.xz" &
xz -T0 -6 -c "$dawn" > "$tmp/dawn.node.xz"
wait

# The Vulkan loader, and GLVND's dispatch libraries: NVIDIA's Vulkan driver lives in
# libGLX_nvidia.so.0, which returns no vkCreateInstance without them (seen on an H200 machine).
debs=(libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2)
log "fetching Debian's ${debs[*]}"
if ! (cd "$tmp" && apt-get download "${debs[@]}" >/dev/null 2>&1); then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; fi
  (cd "$tmp" && apt-get download "${debs[@]}" >/dev/null 2>&1) || { log "apt-get download ${debs[*]} failed (no Debian repository reachable?)"; exit 1; }
fi

cp "$here/run.sh" "$here/merge.py" "$here/torch_layers.py" "$root/bench/pytorch/prob_unet_bench.py" "$tmp/"
cp "$here/README.md" "$tmp/README.md"
{
  echo "probunet GPU check, packed $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "node $(node --version)"
  (cd "$tmp" && sha256sum -- * | grep -v ' MANIFEST$')
} > "$tmp/MANIFEST"

size_kib=$(du -sk "$tmp" | cut -f1)
limit_kib=$((LIMIT_MIB * 1024))
if [ "$size_kib" -gt "$limit_kib" ]; then
  log "the pack is $((size_kib / 1024)) MiB, over the ${LIMIT_MIB} MiB limit"; exit 1
fi
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
log "wrote $dest ($((size_kib / 1024)) MiB of ${LIMIT_MIB} MiB): bash $dest/run.sh OUT_DIR"
