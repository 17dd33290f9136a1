// ESO's provider blocks (aws, gcpsm, vault) as secretlink's (aws, gcp, vault). Each field either maps, is
// reported, or is left out so the API server refuses the store until the user fills it in: a converted
// store never silently reads with a different identity than the ESO store did.
import type {
  AwsProvider,
  GcpProvider,
  VaultAppRoleAuth,
  VaultKubernetesAuth,
  VaultProvider,
} from '../api/types.ts';
import { type StoreScope, secretKeyRef, serviceAccountRef } from './credentials.ts';
import { type Fields, fields, otherKeys, text } from './fields.ts';
import type { CredentialUse, FindingList } from './findings.ts';

const ambientOnlyInClusterStores =
  'secretlink refuses the operator’s own identity in a namespaced SecretStore (the API server refuses this store): ' +
  'give the store its own credentials (secretRef, or a ServiceAccount token), or ask an administrator for a ClusterSecretStore';

export function convertAws(
  aws: Fields,
  scope: StoreScope,
  findings: FindingList,
  uses: CredentialUse[],
): AwsProvider | undefined {
  const path = 'spec.provider.aws';
  const service = text(aws.service) ?? 'SecretsManager';
  if (service !== 'SecretsManager') {
    findings.action(
      `${path}.service`,
      `is ${service}; secretlink reads AWS Secrets Manager only, so this store is not converted`,
    );
    return undefined;
  }
  const auth = fields(aws.auth) ?? {};
  const role = text(aws.role);
  const out: AwsProvider = { region: text(aws.region) ?? '', auth: {} };
  if (auth.secretRef) {
    const ref = fields(auth.secretRef) ?? {};
    const at = `${path}.auth.secretRef`;
    out.auth.secretRef = {
      accessKeyId: secretKeyRef(
        ref.accessKeyIDSecretRef,
        scope,
        `${at}.accessKeyIDSecretRef`,
        findings,
        uses,
      ),
      secretAccessKey: secretKeyRef(
        ref.secretAccessKeySecretRef,
        scope,
        `${at}.secretAccessKeySecretRef`,
        findings,
        uses,
      ),
      ...(ref.sessionTokenSecretRef
        ? {
            sessionToken: secretKeyRef(
              ref.sessionTokenSecretRef,
              scope,
              `${at}.sessionTokenSecretRef`,
              findings,
              uses,
            ),
          }
        : {}),
    };
    if (role) {
      findings.action(
        `${path}.role`,
        `secretlink does not assume a further role after static keys: the store would read as the keys’ own identity, not ${role}; ` +
          'grant that identity access or use jwt/webIdentity with the role',
      );
    }
  } else if (auth.jwt) {
    const jwt = fields(auth.jwt) ?? {};
    const account = serviceAccountRef(
      jwt.serviceAccountRef,
      scope,
      `${path}.auth.jwt.serviceAccountRef`,
      findings,
      uses,
    );
    // With IRSA the role is the ServiceAccount's eks.amazonaws.com/role-arn annotation, which the
    // manifest does not show; secretlink assumes exactly one role with the token, named in the store.
    out.auth.webIdentity = { roleArn: role ?? '', serviceAccountRef: account };
    if (role) {
      findings.changed(
        `${path}.role`,
        'becomes webIdentity.roleArn: secretlink assumes this role directly with the ServiceAccount token, where ESO first ' +
          'took the role in the ServiceAccount’s eks.amazonaws.com/role-arn annotation; the role’s trust policy must accept ' +
          `web identity tokens of ServiceAccount ${account.name}`,
      );
    } else {
      findings.action(
        `${path}.auth.jwt`,
        `fill in webIdentity.roleArn with the role in ServiceAccount ${account.name}’s eks.amazonaws.com/role-arn annotation ` +
          '(the API server refuses the store until then)',
      );
    }
  } else {
    out.auth.defaultChain = {};
    if (scope.kind === 'SecretStore')
      findings.action(`${path}.auth`, `is not set (ambient credentials). ${ambientOnlyInClusterStores}`);
    else
      findings.info(
        `${path}.auth`,
        'is not set: the store uses the operator’s own AWS identity (defaultChain), as ESO used its controller’s',
      );
    if (role)
      findings.action(
        `${path}.role`,
        `secretlink does not assume a role on top of the operator’s identity (${role}); not carried over`,
      );
  }
  for (const key of otherKeys(aws, ['service', 'region', 'auth', 'role'])) {
    findings.changed(
      `${path}.${key}`,
      'has no secretlink equivalent (role chaining, external id, session tags, prefix, PushSecret settings) and is not carried over',
    );
  }
  return out;
}

export function convertGcp(
  gcp: Fields,
  scope: StoreScope,
  findings: FindingList,
  uses: CredentialUse[],
): GcpProvider {
  const path = 'spec.provider.gcpsm';
  const auth = fields(gcp.auth) ?? {};
  const out: GcpProvider = { projectID: text(gcp.projectID) ?? '', auth: {} };
  if (auth.secretRef) {
    const ref = fields(auth.secretRef) ?? {};
    out.auth.secretRef = {
      keyJSON: secretKeyRef(
        ref.secretAccessKeySecretRef,
        scope,
        `${path}.auth.secretRef.secretAccessKeySecretRef`,
        findings,
        uses,
      ),
    };
  } else if (auth.workloadIdentity) {
    const wi = fields(auth.workloadIdentity) ?? {};
    const account = serviceAccountRef(
      wi.serviceAccountRef,
      scope,
      `${path}.auth.workloadIdentity.serviceAccountRef`,
      findings,
      uses,
    );
    // GKE Workload Identity (cluster name and location) is not what secretlink speaks: it exchanges the
    // ServiceAccount token at a workload identity pool provider, which the user must name.
    delete account.audience;
    out.auth.workloadIdentity = { serviceAccountRef: account };
    findings.action(
      `${path}.auth.workloadIdentity`,
      'uses GKE Workload Identity (clusterName/clusterLocation); secretlink uses Workload Identity Federation: fill in ' +
        'serviceAccountRef.audience with the pool provider (//iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>) ' +
        `and serviceAccountEmail with the Google service account in ServiceAccount ${account.name}’s iam.gke.io/gcp-service-account annotation ` +
        '(the API server refuses the store until the audience is set)',
    );
  } else if (Object.keys(auth).length > 0) {
    findings.action(
      `${path}.auth`,
      `uses ${Object.keys(auth).join(', ')}, which secretlink does not support; choose secretRef or workloadIdentity (the API server refuses the store until then)`,
    );
  } else {
    out.auth.applicationDefault = {};
    if (scope.kind === 'SecretStore')
      findings.action(`${path}.auth`, `is not set (ambient credentials). ${ambientOnlyInClusterStores}`);
    else
      findings.info(
        `${path}.auth`,
        'is not set: the store uses the operator’s Application Default Credentials, as ESO used its controller’s',
      );
  }
  if (gcp.location !== undefined) {
    findings.action(
      `${path}.location`,
      'regional secrets are not supported by secretlink; references resolve against global secrets only',
    );
  }
  for (const key of otherKeys(gcp, ['projectID', 'auth', 'location'])) {
    findings.changed(`${path}.${key}`, 'has no secretlink equivalent and is not carried over');
  }
  return out;
}

export function convertVault(
  vault: Fields,
  scope: StoreScope,
  findings: FindingList,
  uses: CredentialUse[],
): VaultProvider {
  const path = 'spec.provider.vault';
  const out: VaultProvider = { server: text(vault.server) ?? '', auth: {} };
  const namespace = text(vault.namespace);
  if (namespace) out.namespace = namespace;
  const version = text(vault.version) === 'v1' ? 1 : 2;
  let mount = text(vault.path);
  if (mount !== undefined && version === 2 && /\/data\/?$/.test(mount)) {
    // ESO appends KV v2's /data itself when it is missing; secretlink takes the bare mount.
    mount = mount.replace(/\/data\/?$/, '');
    findings.info(`${path}.path`, `ends in /data; secretlink’s kv.mount is the bare mount "${mount}"`);
  }
  if (mount !== undefined || version === 1) out.kv = { ...(mount ? { mount } : {}), version };
  const caBundle = text(vault.caBundle);
  if (caBundle) out.caBundle = caBundle;
  if (vault.caProvider) {
    findings.action(
      `${path}.caProvider`,
      'secretlink takes the CA inline: copy the certificate (base64-encoded PEM) from that Secret/ConfigMap into caBundle; until then Vault’s certificate is checked against the system roots only',
    );
  }
  const auth = fields(vault.auth) ?? {};
  if (auth.tokenSecretRef) {
    out.auth.tokenSecretRef = secretKeyRef(
      auth.tokenSecretRef,
      scope,
      `${path}.auth.tokenSecretRef`,
      findings,
      uses,
    );
  } else if (auth.appRole) {
    const appRole = fields(auth.appRole) ?? {};
    const at = `${path}.auth.appRole`;
    const roleId = text(appRole.roleId);
    const mountPath = text(appRole.path);
    // Without an inline role id the field is left out, not invented: the API server then refuses the store.
    out.auth.appRole = {
      ...(mountPath ? { mountPath } : {}),
      ...(roleId ? { roleId } : {}),
      secretIdRef: secretKeyRef(appRole.secretRef, scope, `${at}.secretRef`, findings, uses),
    } as VaultAppRoleAuth;
    if (!roleId) {
      findings.action(
        `${at}.roleRef`,
        'secretlink takes the role id inline: fill in appRole.roleId (the API server refuses the store until then)',
      );
    }
  } else if (auth.kubernetes) {
    const kube = fields(auth.kubernetes) ?? {};
    const at = `${path}.auth.kubernetes`;
    const mountPath = text(kube.mountPath);
    const role = text(kube.role) ?? '';
    if (kube.serviceAccountRef) {
      const account = serviceAccountRef(
        kube.serviceAccountRef,
        scope,
        `${at}.serviceAccountRef`,
        findings,
        uses,
      );
      out.auth.kubernetes = { ...(mountPath ? { mountPath } : {}), role, serviceAccountRef: account };
      if (!account.audience) {
        findings.changed(
          `${at}.serviceAccountRef`,
          `secretlink requests the token with the audience "vault" (and lives 600 s): Vault role ${role} must list audience vault`,
        );
      }
    } else {
      // serviceAccountRef is left out, not invented: the API server then refuses the store.
      out.auth.kubernetes = { ...(mountPath ? { mountPath } : {}), role } as VaultKubernetesAuth;
      findings.action(
        at,
        'has no serviceAccountRef (ESO used a token Secret or its own ServiceAccount): secretlink mints a token for a named ServiceAccount only; ' +
          'fill in serviceAccountRef (the API server refuses the store until then)',
      );
    }
  } else {
    const methods = Object.keys(auth);
    findings.action(
      `${path}.auth`,
      `${methods.length ? `uses ${methods.join(', ')}, which secretlink does not support` : 'is empty'}; ` +
        'choose tokenSecretRef, appRole or kubernetes (the API server refuses the store until then)',
    );
  }
  for (const key of otherKeys(vault, [
    'server',
    'path',
    'version',
    'namespace',
    'caBundle',
    'caProvider',
    'auth',
  ])) {
    findings.changed(`${path}.${key}`, 'has no secretlink equivalent and is not carried over');
  }
  return out;
}
