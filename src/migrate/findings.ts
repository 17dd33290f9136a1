// What the migration could not carry over, and what the user must do before the output works. A finding
// never holds a secret value: ESO manifests name where values live, and the converter copies no data.

/**
 * `action`: the output is refused by the API server or will not work until the user acts (a placeholder
 * to fill in, a missing field, an entry left out). `changed`: carried over with a meaning that differs
 * from External Secrets Operator's, or dropped without changing which values reach the Secret. `info`: a
 * note.
 */
export type Severity = 'action' | 'changed' | 'info';

export interface Finding {
  severity: Severity;
  /** The input object, e.g. `ExternalSecret analytics/dbt-profiles`. */
  object: string;
  /** The input field the finding is about, e.g. `spec.target.template.data.profiles.yml`. */
  field: string;
  message: string;
}

/** One use of a credential by a converted store: the object must list `entry` in its opt-in annotation. */
export interface CredentialUse {
  kind: 'Secret' | 'ServiceAccount';
  /** Unknown when a SecretStore's own namespace was not in the input (applied later with -n). */
  namespace?: string;
  name: string;
  /** `SecretStore/<name>` or `ClusterSecretStore/<name>`. */
  entry: string;
}

/** Every store a Secret or ServiceAccount must list in `secretlink.dev/allowed-stores`. */
export interface CredentialOptIn {
  kind: 'Secret' | 'ServiceAccount';
  namespace?: string;
  name: string;
  annotation: 'secretlink.dev/allowed-stores';
  /** The entries to add, sorted, each once. */
  entries: string[];
  /** The annotation's value if the object has no other entries yet. */
  value: string;
  /**
   * ServiceAccounts only: the operator may request a token only if the namespace grants it `create` on
   * `serviceaccounts/token` for this ServiceAccount (a Role with resourceNames, bound to the operator).
   */
  needsTokenRequestGrant: boolean;
}

export const allowedStoresAnnotation = 'secretlink.dev/allowed-stores' as const;

/** Collects findings for one input object. */
export class FindingList {
  readonly items: Finding[] = [];
  private readonly object: string;
  constructor(object: string) {
    this.object = object;
  }

  action(field: string, message: string): void {
    this.items.push({ severity: 'action', object: this.object, field, message });
  }
  changed(field: string, message: string): void {
    this.items.push({ severity: 'changed', object: this.object, field, message });
  }
  info(field: string, message: string): void {
    this.items.push({ severity: 'info', object: this.object, field, message });
  }
}

/** Groups credential uses by object, so each Secret or ServiceAccount appears once with all its stores. */
export function credentialOptIns(uses: CredentialUse[]): CredentialOptIn[] {
  const byObject = new Map<string, CredentialUse[]>();
  for (const use of uses) {
    const id = `${use.kind}/${use.namespace ?? ''}/${use.name}`;
    byObject.set(id, [...(byObject.get(id) ?? []), use]);
  }
  return [...byObject.values()]
    .map((group) => {
      const first = group[0]!;
      const entries = [...new Set(group.map((use) => use.entry))].sort();
      return {
        kind: first.kind,
        ...(first.namespace !== undefined ? { namespace: first.namespace } : {}),
        name: first.name,
        annotation: allowedStoresAnnotation,
        entries,
        value: entries.join(', '),
        needsTokenRequestGrant: first.kind === 'ServiceAccount',
      };
    })
    .sort((a, b) =>
      `${a.kind}/${a.namespace ?? ''}/${a.name}`.localeCompare(`${b.kind}/${b.namespace ?? ''}/${b.name}`),
    );
}
