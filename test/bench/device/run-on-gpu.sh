#!/usr/bin/env bash
# The engine's GPU checks in one run, on a GPU machine that has the repository and the .gpu/
# folder that test/bench/device/prepare.sh builds (node, the engine's node_modules, the Vulkan
# loaders), but no network. From the repository root:
#
#   bash test/bench/device/run-on-gpu.sh        # logs and JSON go to $OUT (default: ./gpu-out)
#
# 1. unpacks the Vulkan loaders into /, node and node_modules where missing;
# 2. exports the ViT-S/16 random-weight model with the machine's PyTorch (.bench/vit-s16);
# 3. runs the WebGPU placement test (no activation node on the CPU, from ORT's verbose log);
# 4. runs the engine bench on WebGPU and on the CPU (all cores) at batch 1 and 32, with PyTorch
#    CUDA and CPU in the same run (and, with VSW_DEVICE_SPIN=1, the CPU rows again with ORT's
#    threads spinning).
# Each step has its own time limit, so one that hangs does not take the others' output with it.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
summary="$OUT/summary.txt"
say() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$summary"; }

# xz may be missing there; Python's lzma reads the same files.
unxz_to_stdout() {
  if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}

say "unpacking the Vulkan loaders"
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .gpu/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
  say "using the carried node"
  mkdir -p /tmp/vsw-node
  unxz_to_stdout .gpu/node.xz >/tmp/vsw-node/node
  chmod +x /tmp/vsw-node/node
  export PATH=/tmp/vsw-node:$PATH
fi
if [ ! -d node_modules/onnxruntime-node ]; then
  say "unpacking node_modules"
  mkdir -p node_modules
  unxz_to_stdout .gpu/node_modules.tar.xz | tar -C node_modules -x
fi
say "node $(node --version); $(nproc) cores; $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null)"
node -e 'console.log("ORT backends:", require("onnxruntime-node").listSupportedBackends().map((b) => b.name).join(", "))' 2>&1 | tee -a "$summary"

export VSW_BENCH_PYTHON=$(command -v python3)
say "exporting ViT-S/16 (random weights) with $(python3 -c 'import torch; print("PyTorch", torch.__version__)' 2>&1)"
if [ ! -f .bench/vit-s16/model.onnx ]; then
  timeout 240 python3 models/tools/export_vit_s16.py .bench/vit-s16 >"$OUT/export.log" 2>&1
  tail -n 2 "$OUT/export.log" | tee -a "$summary"
fi

say "WebGPU placement test"
rm -f "$OUT/placement-detail.txt"
VSW_PLACEMENT_LOG="$OUT/placement-detail.txt" timeout 240 node --import tsx --test --test-reporter=spec \
  test/unit/engine-core/webgpuPlacement.test.ts 2>&1 | grep -v 'W:onnxruntime' | tee "$OUT/placement.log" | grep -E '^#|✔|✖|﹣|pass|fail' | tee -a "$summary"

say "engine bench: WebGPU and CPU, batch 1 and 32, with ORT's profile of each (summaries in the log)"
# The profiles themselves (tens of MB) stay on the machine; their summaries are in engine-bench.log:
# kernels per run, the host's time in them against the run's, time per op type and provider.
timeout 330 node test/bench/run-bench.mjs engine --provider webgpu,cpu --batches 1,32 --seconds 3 \
  --models vit-s16 --profile .bench/profiles --json "$OUT/engine-bench.json" 2>&1 | grep -v 'W:onnxruntime' |
  tee "$OUT/engine-bench.log" | tail -n 12 | tee -a "$summary"
# ORT's intra-op threads no longer spin by default (2x faster on a loaded 2-core machine); on
# idle cores spinning may win latency back. VSW_DEVICE_SPIN=1 measures the CPU rows with it on.
if [ "${VSW_DEVICE_SPIN:-0}" = 1 ]; then
  say "engine bench: CPU with ORT's threads spinning (--spin)"
  timeout 150 node test/bench/run-bench.mjs engine --provider cpu --batches 1,32 --seconds 2 --spin \
    --models vit-s16 --no-torch --json "$OUT/engine-bench-spin.json" 2>&1 | grep -v 'W:onnxruntime' |
    tee "$OUT/engine-bench-spin.log" | tail -n 6 | tee -a "$summary"
fi
say "done"
