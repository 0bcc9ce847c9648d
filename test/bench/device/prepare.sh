#!/usr/bin/env bash
# Builds .gpu/ (git-ignored), the one folder the GPU machine needs besides the repository to run
# test/bench/device/run-on-gpu.sh: a stripped, xz-compressed copy of this machine's node binary,
# the node_modules the engine, its tests and the bench load (onnxruntime-node's linux/x64 build,
# which holds the WebGPU provider; no CUDA libraries), and the Vulkan loader packages
# (libvulkan1 & co., Debian bookworm amd64) that ORT's WebGPU (Dawn) needs there.
# Run from anywhere, on an x86-64 Linux machine with apt; prints the carried size at the end.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=.gpu
rm -rf "$out"
mkdir -p "$out/gl"

node_bin=$(command -v node)
strip -o "$out/node" "$node_bin"
xz -T0 -6 "$out/node"

modules=$(realpath node_modules)
tar -C "$modules" -cJf "$out/node_modules.tar.xz" \
  --exclude='onnxruntime-node/bin/napi-v6/darwin' \
  --exclude='onnxruntime-node/bin/napi-v6/win32' \
  --exclude='onnxruntime-node/bin/napi-v6/linux/arm64' \
  onnxruntime-node onnxruntime-common \
  sharp @img/sharp-linux-x64 @img/sharp-libvips-linux-x64 @img/colour detect-libc semver \
  zod tsx esbuild @esbuild/linux-x64

# The device README's recipe for the Vulkan loaders (amd64 package lists in a folder of their own).
lists=$(mktemp -d)
mkdir -p "$lists/partial"
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt_opts[@]}" update -q >/dev/null
(cd "$out/gl" && apt-get "${apt_opts[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
rm -rf "$lists"

du -sh "$out" "$out"/*
echo "carry: .gpu   (plus the repository's tracked files: $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) bytes)"
