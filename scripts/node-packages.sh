#!/bin/sh
# The real node of the end-to-end suite (test/env/node) runs containerd, runc, the CNI loopback plugin and
# buildah from the machine, and a static busybox for its local images; the alert rules' test runs promtool.
# When one is missing this installs the Debian packages that provide them (about a minute), as root with
# apt-get; elsewhere it says what to install.
set -eu
packages="containerd runc containernetworking-plugins buildah busybox-static prometheus"
missing=""
for command in containerd ctr runc buildah busybox promtool; do
  command -v "$command" >/dev/null 2>&1 || missing="$missing $command"
done
[ -x /usr/lib/cni/loopback ] || [ -x /opt/cni/bin/loopback ] || missing="$missing cni-loopback"
[ -z "$missing" ] && exit 0

echo "The tests need:$missing (Debian packages: $packages)."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing them with apt-get (about a minute)..."
  apt-get update -qq
  # No service may start from a package install (prometheus ships one): the test starts what it needs itself.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.secretlink
  chmod +x /usr/sbin/policy-rc.d.secretlink
  restore=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    mv /usr/sbin/policy-rc.d.secretlink /usr/sbin/policy-rc.d
    restore="rm -f /usr/sbin/policy-rc.d"
  else
    rm -f /usr/sbin/policy-rc.d.secretlink
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages
  [ -z "$restore" ] || $restore
else
  echo "Install them as root (apt-get install -y $packages), or run the suites without the real node:"
  echo "  npx vitest run --project unit --project integration"
  exit 1
fi
