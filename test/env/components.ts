// The catalogue of real servers the test environment runs. Each is built from Go modules pinned in
// hack/components/<module>/, or taken from an existing binary when the user points at one.
import path from 'node:path';

export interface Component {
  /** Name used in progress lines, errors and the cache key. */
  readonly name: string;
  readonly version: string;
  /** Folder under hack/components holding the wrapper go.mod. */
  readonly module: string;
  /** Binary file name -> Go package that builds it. */
  readonly binaries: Readonly<Record<string, string>>;
  /** Environment variable naming a folder that already holds these binaries. */
  readonly binDirVariable: string;
  readonly ldflags?: string;
  /** Files swapped in at build time (go build -overlay): module-relative path -> file in hack/. */
  readonly overlay?: Readonly<Record<string, string>>;
  /** Module path prefixes whose checksums the public checksum database does not serve. */
  readonly noSumDb?: string;
}

const kubernetesVersion = 'v1.36.3';
const versionPackage = 'k8s.io/component-base/version';
const [, kubeMajor, kubeMinor] = /^v(\d+)\.(\d+)/.exec(kubernetesVersion)!;

export const kubernetes: Component = {
  name: 'kubernetes',
  version: kubernetesVersion,
  module: 'kubernetes',
  binaries: {
    'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
    'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
    'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
    kubectl: 'k8s.io/kubernetes/cmd/kubectl',
  },
  binDirVariable: 'KUBEBUILDER_ASSETS',
  // Without these the binaries report v0.0.0 and clients print version-skew warnings.
  ldflags: [
    `-X ${versionPackage}.gitVersion=${kubernetesVersion}`,
    `-X ${versionPackage}.gitMajor=${kubeMajor}`,
    `-X ${versionPackage}.gitMinor=${kubeMinor}`,
    `-X ${versionPackage}.gitTreeState=clean`,
    `-X k8s.io/client-go/pkg/version.gitVersion=${kubernetesVersion}`,
  ].join(' '),
};

// The real node's kubelet: same wrapper module and link flags as the control plane, its own cache entry, so
// runs that need no real node never build it.
export const kubelet: Component = {
  ...kubernetes,
  name: 'kubelet',
  binaries: { kubelet: 'k8s.io/kubernetes/cmd/kubelet' },
  binDirVariable: 'SECRETLINK_KUBELET_DIR',
};

export const etcd: Component = {
  name: 'etcd',
  version: 'v3.6.16',
  module: 'etcd',
  binaries: { etcd: 'go.etcd.io/etcd/server/v3' },
  binDirVariable: 'KUBEBUILDER_ASSETS',
};

export const kwok: Component = {
  name: 'kwok',
  version: 'v0.8.0',
  module: 'kwok',
  binaries: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' },
  binDirVariable: 'SECRETLINK_KWOK_DIR',
};

export const vault: Component = {
  name: 'vault',
  version: 'v1.21.1',
  module: 'vault',
  binaries: { vault: 'github.com/hashicorp/vault' },
  binDirVariable: 'SECRETLINK_VAULT_DIR',
};

export const gcpSecretManager: Component = {
  name: 'gcp-secret-manager-emulator',
  version: 'v0.1.0',
  module: 'gcpsm',
  // Upstream's command listens on every interface; hack/components/gcpsm/main.go binds --host (default 127.0.0.1).
  binaries: {
    'gcp-secret-manager-emulator': 'github.com/blackwell-systems/gcp-secret-manager-emulator/loopback',
  },
  binDirVariable: 'SECRETLINK_GCPSM_DIR',
  noSumDb: 'github.com/blackwell-systems',
};

export const controlPlaneComponents: readonly Component[] = [etcd, kubernetes, kwok];

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const componentsDir = path.join(repoRoot, 'hack', 'components');

// Validates manifests against JSON Schemas converted from crds/, with no API server (src/api offline tests).
export const kubeconform: Component = {
  name: 'kubeconform',
  version: 'v0.8.0',
  module: 'kubeconform',
  binaries: { kubeconform: 'github.com/yannh/kubeconform/cmd/kubeconform' },
  binDirVariable: 'SECRETLINK_KUBECONFORM_DIR',
};
