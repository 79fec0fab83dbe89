#!/usr/bin/env bash
# The GPU check, run from the packed folder alone (no Node.js, no network, no node_modules needed):
#   bash DEST/run.sh OUT_DIR
# Writes OUT_DIR/report.json (merged: adapter, every step's status, parity, speed, PyTorch on the
# same GPU, ratios), OUT_DIR/summary.md and OUT_DIR/log.txt. Every step is recorded as it ends, so
# a failure in the first minute still reports what ran and what failed. Finishes in under 8 minutes:
# each part runs under its own time limit.
#
# Environment: PROBUNET_DAWN_BACKEND (vulkan on a machine with an NVIDIA GPU, else opengl),
# PROBUNET_GPU_CHECK_WEBGPU_S (default 300), PROBUNET_GPU_CHECK_TORCH_S (default 70 per run),
# PROBUNET_GPU_CHECK_ARGS (passed to check.mjs run, e.g. "--batches 64 --variants forward"),
# PROBUNET_GPU_CHECK_SKIP_TORCH=1 (WebGPU only), PROBUNET_GPU_CHECK_LAYER_BATCHES (PyTorch per-layer
# batches, default "32"; pass the same to check.mjs with --layer-batches).
set -uo pipefail
pack="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: run.sh OUT_DIR}"
mkdir -p "$out" || exit 1
out="$(cd "$out" && pwd)"
work="$(mktemp -d /tmp/probunet-gpu-check.XXXXXX)"
steps="$work/steps.jsonl"
: > "$steps"
exec > >(tee "$out/log.txt") 2>&1
t_start=$(date +%s)
echo "probunet GPU check: pack $pack, output $out, scratch $work"
head -3 "$pack/MANIFEST" 2>/dev/null

# step NAME STATUS SECONDS [REASON]: one JSON line per shell-level step.
step() {
  python3 - "$@" >> "$steps" <<'PY'
import json, sys
name, status, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
row = {'name': name, 'status': status, 'seconds': seconds}
if len(sys.argv) > 4 and sys.argv[4]:
    row['reason'] = sys.argv[4][-600:]
print(json.dumps(row))
PY
  echo "== step: $1: $2${4:+ ($4)}"
}
merge() { python3 "$pack/merge.py" "$work" "$out" "$pack" || echo "merge failed"; }
trap merge EXIT

# 1. Unpack Node.js and Dawn (xz, or Python's lzma where xz is missing).
unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
t0=$(date +%s)
if unxz_to "$pack/node.xz" "$work/node" && chmod +x "$work/node" && node_version="$("$work/node" --version 2>&1)"; then
  step "unpack node" ok $(( $(date +%s) - t0 )) "$node_version"
  node_ok=1
else
  step "unpack node" failed $(( $(date +%s) - t0 )) "the Node.js binary did not run here: ${node_version:-unpack failed}"
  node_ok=0
fi
t0=$(date +%s)
if unxz_to "$pack/dawn.node.xz" "$work/dawn.node"; then step "unpack dawn.node" ok $(( $(date +%s) - t0 )); else step "unpack dawn.node" failed $(( $(date +%s) - t0 )); node_ok=0; fi

# 2. The Vulkan loader and GLVND's libraries: the system's where it has them, else Debian's
#    packages carried in the pack, unpacked into the scratch folder (never installed).
unpack_deb() { # DEB DIR
  if command -v dpkg-deb >/dev/null && dpkg-deb -x "$1" "$2" 2>/dev/null; then return 0; fi
  python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'!<arch>\n', 'not a .deb'
pos = 8
while pos < len(data):
    name, size = data[pos:pos + 16].decode().strip(), int(data[pos + 48:pos + 58])
    body = data[pos + 60:pos + 60 + size]
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    pos += 60 + size + (size & 1)
PY
}
t0=$(date +%s)
lib="$work/vk/usr/lib/x86_64-linux-gnu"
mkdir -p "$work/vk"
carried=()
for pair in libvulkan1:libvulkan.so.1 libglvnd0:libGLdispatch.so.0 libegl1:libEGL.so.1 libgl1:libGL.so.1 libglx0:libGLX.so.0 libopengl0:libOpenGL.so.0 libgles2:libGLESv2.so.2; do
  pkg=${pair%%:*} so=${pair#*:}
  ldconfig -p 2>/dev/null | grep -q " $so " && continue
  deb="$(ls "$pack/${pkg}"_*.deb 2>/dev/null | head -1)"
  if [ -n "$deb" ] && unpack_deb "$deb" "$work/vk"; then carried+=("$pkg"); fi
done
if [ ${#carried[@]} -gt 0 ]; then export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || [ -e "$lib/libvulkan.so.1" ]; then
  step "vulkan loader" ok $(( $(date +%s) - t0 )) "carried and unpacked: ${carried[*]:-none (the system has them)}"
else
  step "vulkan loader" failed $(( $(date +%s) - t0 )) "no libvulkan.so.1 on the system and the carried package did not unpack"
fi

# 3. The GPU, if any: name, driver, memory; its Vulkan driver manifest (ICD).
gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  gpu=1
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,clocks.max.sm,power.limit --format=csv > "$work/nvidia-smi.csv" 2>&1
  step "nvidia-smi" ok 0 "$(tail -1 "$work/nvidia-smi.csv")"
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
    for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
      if [ -f "$f" ]; then export VK_DRIVER_FILES="$f" VK_ICD_FILENAMES="$f"; break; fi
    done
  fi
  # The Vulkan loader says on stderr (log.txt) why a driver is skipped, if one is.
  export VK_LOADER_DEBUG="${VK_LOADER_DEBUG:-error,warn}"
  [ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64"
  step "vulkan driver manifest" "$([ -n "${VK_DRIVER_FILES:-}" ] && echo ok || echo failed)" 0 "${VK_DRIVER_FILES:-no nvidia_icd.json found in the usual places}"
else
  step "nvidia-smi" skipped 0 "no NVIDIA GPU: WebGPU runs on the software adapter, PyTorch's GPU part is skipped"
fi

# 4. WebGPU in Node: parity against the carried cpu reference, then speed.
export PROBUNET_DAWN_BACKEND="${PROBUNET_DAWN_BACKEND:-$([ $gpu = 1 ] && echo vulkan || echo opengl)}"
export PROBUNET_DAWN_NODE="$work/dawn.node"
# Kernel times for the profile need Dawn's timestamp queries.
export PROBUNET_DAWN_FLAGS="${PROBUNET_DAWN_FLAGS:-enable-dawn-features=allow_unsafe_apis}"
sample_memory() { # FILE: the GPU's used memory every 200 ms while a part runs
  [ $gpu = 1 ] || return 0
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$1" 2>/dev/null &
  echo $!
}
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits > "$work/memory-idle.txt" 2>/dev/null || true
webgpu_run() {
  (cd "$work" && timeout -k 10 "${PROBUNET_GPU_CHECK_WEBGPU_S:-300}" "$work/node" "$pack/check.mjs" run --ref "$pack" --out "$work/webgpu.json" ${PROBUNET_GPU_CHECK_ARGS:-})
}
if [ "$node_ok" = 1 ]; then
  t0=$(date +%s)
  sampler=$(sample_memory "$work/memory-webgpu.txt")
  webgpu_run
  rc=$?
  # Dawn found no Vulkan adapter on a GPU machine: the driver may need GLVND's libraries in the
  # system's library folders rather than on LD_LIBRARY_PATH. On a bare, lent machine (root), unpack
  # the carried packages into / once and try again; the report says so. PROBUNET_GPU_CHECK_NO_SYSTEM=1 skips this.
  if [ $rc = 2 ] && [ $gpu = 1 ] && [ "$(id -u)" = 0 ] && [ -z "${PROBUNET_GPU_CHECK_NO_SYSTEM:-}" ]; then
    step "webgpu check, first try" failed $(( $(date +%s) - t0 )) "no adapter with the carried libraries on LD_LIBRARY_PATH; retrying with them unpacked into /"
    for deb in "$pack"/*.deb; do dpkg -x "$deb" / 2>/dev/null || unpack_deb "$deb" /; done
    ldconfig
    t0=$(date +%s)
    webgpu_run
    rc=$?
  fi
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
  case $rc in
    0) step "webgpu check" ok $(( $(date +%s) - t0 )) ;;
    124|137) step "webgpu check" failed $(( $(date +%s) - t0 )) "stopped at its time limit (${PROBUNET_GPU_CHECK_WEBGPU_S:-300} s); report.json keeps the steps that finished" ;;
    *) step "webgpu check" failed $(( $(date +%s) - t0 )) "exit $rc; see webgpu.steps in report.json and log.txt" ;;
  esac
else
  step "webgpu check" skipped 0 "Node.js or Dawn could not be unpacked (see above)"
fi

# 5. PyTorch on the same GPU: strict fp32 (as WebGPU computes) with a kernel profile, then TF32
#    (PyTorch's default for convolutions) for context.
if [ -n "${PROBUNET_GPU_CHECK_SKIP_TORCH:-}" ]; then
  step "pytorch cuda" skipped 0 "PROBUNET_GPU_CHECK_SKIP_TORCH is set"
elif [ $gpu = 1 ] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  for mode in off on; do
    t0=$(date +%s)
    sampler=$(sample_memory "$work/memory-pytorch-tf32-$mode.txt")
    extra=$([ $mode = off ] && echo --profile)
    timeout -k 10 "${PROBUNET_GPU_CHECK_TORCH_S:-70}" python3 "$pack/prob_unet_bench.py" --device cuda --batch 8 32 64 --steps 20 --tf32 $mode $extra > "$work/pytorch-tf32-$mode.json" 2> "$work/pytorch-tf32-$mode.err"
    rc=$?
    [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
    if [ $rc = 0 ]; then step "pytorch cuda, tf32 $mode" ok $(( $(date +%s) - t0 )); else step "pytorch cuda, tf32 $mode" failed $(( $(date +%s) - t0 )) "exit $rc: $(tail -3 "$work/pytorch-tf32-$mode.err" | tr '\n' ' ')"; fi
  done
  # The same 3×3 convolutions layer by layer (fp32, TF32 off), beside WebGPU's per-layer figures.
  for b in ${PROBUNET_GPU_CHECK_LAYER_BATCHES:-32}; do
    t0=$(date +%s)
    if timeout -k 10 60 python3 "$pack/torch_layers.py" --batch "$b" --tf32 off > "$work/pytorch-layers-$b.json" 2> "$work/pytorch-layers-$b.err"; then
      step "pytorch cuda, per layer, batch $b" ok $(( $(date +%s) - t0 ))
    else
      step "pytorch cuda, per layer, batch $b" failed $(( $(date +%s) - t0 )) "$(tail -3 "$work/pytorch-layers-$b.err" | tr '\n' ' ')"
    fi
  done
else
  step "pytorch cuda" skipped 0 "$([ $gpu = 1 ] && echo 'PyTorch with CUDA is not available here' || echo 'no NVIDIA GPU')"
fi
echo "probunet GPU check: done in $(( $(date +%s) - t_start )) s"
