#!/bin/sh
# The real node of the end-to-end suite (test/env/node) runs containerd, runc, the CNI loopback plugin and
# buildah from the machine, and a static busybox for its local images. When one is missing this installs the
# Debian packages that provide them (about a minute), as root with apt-get; elsewhere it says what to install.
set -eu
packages="containerd runc containernetworking-plugins buildah busybox-static"
missing=""
for command in containerd ctr runc buildah busybox; do
  command -v "$command" >/dev/null 2>&1 || missing="$missing $command"
done
[ -x /usr/lib/cni/loopback ] || [ -x /opt/cni/bin/loopback ] || missing="$missing cni-loopback"
[ -z "$missing" ] && exit 0

echo "The real node needs:$missing (Debian packages: $packages)."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing them with apt-get (about a minute)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages
else
  echo "Install them as root (apt-get install -y $packages), or run the suites without the real node:"
  echo "  npx vitest run --project unit --project integration"
  exit 1
fi
