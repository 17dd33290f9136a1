// Every field of every type in types.ts, written out once more as data. The compiler proves each list matches
// its interface (same keys, same optionality); crds-match-types.test.ts proves each matches the CRD schema.
// Together they keep crds/ and types.ts in step without generating either from the other.
import type { V1LabelSelectorRequirement } from '@kubernetes/client-node';
import type * as api from '../../src/api/types.ts';

export type Presence = 'required' | 'optional';

/** A field that holds an object (or a list of objects) names the shape of that object. */
export type FieldShape = Presence | readonly [Presence, ShapeData];

export interface ShapeData {
  readonly fields: Readonly<Record<string, FieldShape>>;
}

interface Shape<T> extends ShapeData {
  /** Ties the shape to exactly T, for the compiler only. */
  readonly of?: (value: T) => T;
}

type PresenceOf<V> = undefined extends V ? 'optional' : 'required';
type Element<V> = NonNullable<V> extends readonly (infer E)[] ? E : NonNullable<V>;
type Fields<T> = { [K in keyof T]-?: PresenceOf<T[K]> | readonly [PresenceOf<T[K]>, Shape<Element<T[K]>>] };

function shape<T>(fields: Fields<T>): Shape<T> {
  return { fields: fields as Record<string, FieldShape> };
}

const secretKeyRef = shape<api.SecretKeyRef>({ name: 'required', key: 'required', namespace: 'optional' });
const serviceAccountRef = shape<api.ServiceAccountRef>({
  name: 'required',
  namespace: 'optional',
  audience: 'optional',
});

const aws = shape<api.AwsProvider>({
  region: 'required',
  endpoint: 'optional',
  allowInsecureHttp: 'optional',
  auth: [
    'required',
    shape<api.AwsAuth>({
      defaultChain: 'optional',
      webIdentity: [
        'optional',
        shape<api.AwsWebIdentityAuth>({
          roleArn: 'required',
          serviceAccountRef: ['required', serviceAccountRef],
        }),
      ],
      secretRef: [
        'optional',
        shape<api.AwsAccessKeyAuth>({
          accessKeyId: ['required', secretKeyRef],
          secretAccessKey: ['required', secretKeyRef],
          sessionToken: ['optional', secretKeyRef],
        }),
      ],
    }),
  ],
});

const gcp = shape<api.GcpProvider>({
  projectID: 'required',
  endpoint: 'optional',
  auth: [
    'required',
    shape<api.GcpAuth>({
      applicationDefault: 'optional',
      workloadIdentity: [
        'optional',
        shape<api.GcpWorkloadIdentityAuth>({
          serviceAccountRef: ['required', serviceAccountRef],
          serviceAccountEmail: 'optional',
        }),
      ],
      secretRef: ['optional', shape<api.GcpKeyAuth>({ keyJSON: ['required', secretKeyRef] })],
    }),
  ],
});

const vault = shape<api.VaultProvider>({
  server: 'required',
  namespace: 'optional',
  kv: ['optional', shape<api.VaultKv>({ mount: 'optional', version: 'optional' })],
  caBundle: 'optional',
  allowInsecureHttp: 'optional',
  auth: [
    'required',
    shape<api.VaultAuth>({
      kubernetes: [
        'optional',
        shape<api.VaultKubernetesAuth>({
          mountPath: 'optional',
          role: 'required',
          serviceAccountRef: ['required', serviceAccountRef],
        }),
      ],
      appRole: [
        'optional',
        shape<api.VaultAppRoleAuth>({
          mountPath: 'optional',
          roleId: 'required',
          secretIdRef: ['required', secretKeyRef],
        }),
      ],
      tokenSecretRef: ['optional', secretKeyRef],
    }),
  ],
});

const provider = shape<api.StoreProvider>({
  aws: ['optional', aws],
  gcp: ['optional', gcp],
  vault: ['optional', vault],
});

const labelSelectorRequirement = shape<V1LabelSelectorRequirement>({
  key: 'required',
  operator: 'required',
  values: 'optional',
});

const condition = shape<api.Condition>({
  type: 'required',
  status: 'required',
  reason: 'required',
  message: 'required',
  lastTransitionTime: 'required',
  observedGeneration: 'optional',
});

const storeStatus = shape<api.StoreStatus>({
  provider: 'optional',
  observedGeneration: 'optional',
  conditions: ['optional', condition],
});

const secretStore = shape<api.SecretStore>({
  apiVersion: 'required',
  kind: 'required',
  metadata: 'required',
  spec: ['required', shape<api.SecretStoreSpec>({ provider: ['required', provider] })],
  status: ['optional', storeStatus],
});

const namespaceSelection = shape<api.AllowedNamespaces>({
  names: 'optional',
  selector: [
    'optional',
    shape<api.LabelSelector>({
      matchLabels: 'optional',
      matchExpressions: ['optional', labelSelectorRequirement],
    }),
  ],
});

const clusterSecretStore = shape<api.ClusterSecretStore>({
  apiVersion: 'required',
  kind: 'required',
  metadata: 'required',
  spec: [
    'required',
    shape<api.ClusterSecretStoreSpec>({
      provider: ['required', provider],
      allowedNamespaces: ['required', namespaceSelection],
      remoteAccess: [
        'optional',
        shape<api.RemoteAccessRule>({
          namespaces: ['required', namespaceSelection],
          names: 'optional',
          prefixes: 'optional',
        }),
      ],
    }),
  ],
  status: ['optional', storeStatus],
});

const secretReference = shape<api.SecretReference>({
  apiVersion: 'required',
  kind: 'required',
  metadata: 'required',
  spec: [
    'required',
    shape<api.SecretReferenceSpec>({
      storeRef: ['required', shape<api.StoreRef>({ kind: 'optional', name: 'required' })],
      data: [
        'optional',
        shape<api.DataEntry>({
          key: 'required',
          remote: [
            'required',
            shape<api.RemoteRef>({ name: 'required', property: 'optional', version: 'optional' }),
          ],
          decoding: 'optional',
        }),
      ],
      dataFrom: [
        'optional',
        shape<api.DataFromEntry>({
          remote: [
            'optional',
            shape<NonNullable<api.DataFromEntry['remote']>>({ name: 'required', version: 'optional' }),
          ],
          find: [
            'optional',
            shape<api.RemoteFind>({
              path: 'optional',
              name: ['optional', shape<NonNullable<api.RemoteFind['name']>>({ regexp: 'required' })],
              tags: 'optional',
              maxSecrets: 'optional',
            }),
          ],
          decoding: 'optional',
          rewrite: [
            'optional',
            shape<api.KeyRewrite>({
              regexp: [
                'optional',
                shape<NonNullable<api.KeyRewrite['regexp']>>({ source: 'required', target: 'required' }),
              ],
              prefix: 'optional',
              case: 'optional',
            }),
          ],
        }),
      ],
      target: [
        'optional',
        shape<api.Target>({
          name: 'optional',
          type: 'optional',
          labels: 'optional',
          annotations: 'optional',
        }),
      ],
      consumers: [
        'required',
        shape<api.Consumers>({
          matchLabels: 'optional',
          matchExpressions: ['optional', labelSelectorRequirement],
          serviceAccountNames: 'optional',
        }),
      ],
      ttl: 'optional',
      refreshInterval: 'optional',
    }),
  ],
  status: [
    'optional',
    shape<api.SecretReferenceStatus>({
      observedGeneration: 'optional',
      conditions: ['optional', condition],
      secretName: 'optional',
      consumingJobs: [
        'optional',
        shape<api.ConsumingJob>({
          name: 'required',
          uid: 'required',
          startTime: 'optional',
          expiresAt: 'optional',
        }),
      ],
      consumingJobCount: 'optional',
      refusedJobs: [
        'optional',
        shape<api.RefusedJob>({ name: 'required', uid: 'required', reason: 'required' }),
      ],
      writtenAt: 'optional',
      expiresAt: 'optional',
      remoteVersions: ['optional', shape<api.RemoteVersion>({ name: 'required', version: 'required' })],
      managedSecret: ['optional', shape<api.ManagedSecretRecord>({ name: 'required', uid: 'optional' })],
      jobStarts: [
        'optional',
        shape<api.JobStart>({ name: 'required', uid: 'required', firstStartTime: 'required' }),
      ],
    }),
  ],
});

/** The shape of each resource, by kind. */
export const resourceShapes: Readonly<Record<string, ShapeData>> = {
  SecretStore: secretStore,
  ClusterSecretStore: clusterSecretStore,
  SecretReference: secretReference,
};
