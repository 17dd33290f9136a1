// The catalogue of real servers the test environment runs. Each is built from Go modules pinned in
// hack/components/<module>/, or taken from an existing binary when the user points at one.
import { readFileSync } from 'node:fs';
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

const helmVersion = 'v3.21.4';
// The client-go minor helm's go.mod pins (v0.36 speaks Kubernetes 1.36), read as helm's Makefile reads it.
const helmKubeMinor = /k8s\.io\/client-go v0\.(\d+)\./.exec(
  readFileSync(path.join(import.meta.dirname, '..', '..', 'hack', 'components', 'helm', 'go.mod'), 'utf8'),
)?.[1];

// Lints, renders and installs charts/secretlink in the tests, as platform teams install operators.
export const helm: Component = {
  name: 'helm',
  version: helmVersion,
  module: 'helm',
  binaries: { helm: 'helm.sh/helm/v3/cmd/helm' },
  binDirVariable: 'SECRETLINK_HELM_DIR',
  // As helm's own Makefile links it: its version, and the Kubernetes version its client-go modules speak
  // (k8s.io/client-go v0.36 -> 1.36), which `helm template` and `helm lint` assume without a cluster.
  ldflags: [
    `-X helm.sh/helm/v3/internal/version.version=${helmVersion}`,
    ...['pkg/chartutil', 'pkg/lint/rules'].flatMap((pkg) => [
      `-X helm.sh/helm/v3/${pkg}.k8sVersionMajor=1`,
      `-X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${helmKubeMinor}`,
    ]),
  ].join(' '),
};

// Argo CD's health-check interpreter (gopher-lua + gopher-json) around one script: hack/components/argocd-health.
export const argocdHealth: Component = {
  name: 'argocd-health',
  version: 'gopher-lua-v1.1.2',
  module: 'argocd-health',
  binaries: { 'argocd-health': 'secretlink.dev/components/argocd-health' },
  binDirVariable: 'SECRETLINK_ARGOCD_HEALTH_DIR',
};

// Flux's readiness reading (kstatus) of one object: hack/components/kstatus.
export const kstatus: Component = {
  name: 'kstatus',
  version: 'cli-utils-v0.37.2',
  module: 'kstatus',
  binaries: { kstatus: 'secretlink.dev/components/kstatus' },
  binDirVariable: 'SECRETLINK_KSTATUS_DIR',
};

/** What the shipping tests (chart, release manifest, Argo CD and Flux health) need beyond the control plane. */
export const shippingComponents: readonly Component[] = [helm, argocdHealth, kstatus];

// External Secrets Operator's controller, only for the side-by-side benchmark (bench/eso.ts, `make bench-eso`):
// no test needs it, and its cold build is the longest of all (minutes of compiling, a 220 MB binary), so no
// default build lane includes it.
export const externalSecrets: Component = {
  name: 'external-secrets',
  version: 'v0.16.2',
  module: 'external-secrets',
  binaries: { 'external-secrets': 'github.com/external-secrets/external-secrets' },
  binDirVariable: 'SECRETLINK_EXTERNAL_SECRETS_DIR',
};
