#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing (needs root or sudo).
set -euo pipefail
# Headless MuJoCo rendering (MUJOCO_GL=egl, which relayrl.envs sets by default): the GL
# vendor-neutral dispatch libraries (libegl1, libopengl0, libgl1) and Mesa's EGL with its
# software rasterizer (libegl-mesa0, libgl1-mesa-dri), so frames render without a GPU or X.
packages=(libegl1 libopengl0 libgl1 libegl-mesa0 libgl1-mesa-dri)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
