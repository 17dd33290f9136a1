// Static checks of a Vault store spec, with the path of each problem.
import { secretKeyRefProblems, serviceAccountRefProblems } from '../credentials.ts';
import { serverUrlProblems } from '../store-hosts.ts';
import type { VaultProviderSpec } from '../store-spec.ts';
import type { StoreScope, ValidationProblem } from '../types.ts';
import { exactlyOne } from '../validation.ts';

const root = 'spec.provider.vault';
const vaultNamespace = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/?$/;
const mount = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export function validateVault(spec: VaultProviderSpec, scope: StoreScope): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if (!spec.server) problems.push({ path: `${root}.server`, message: 'required' });
  else {
    problems.push(...serverUrlProblems(spec.server, spec.allowInsecureHttp, scope, `${root}.server`));
  }
  if (spec.namespace !== undefined && !vaultNamespace.test(spec.namespace)) {
    problems.push({
      path: `${root}.namespace`,
      message: `"${spec.namespace}" is not a Vault namespace path`,
    });
  }
  const kv = spec.kv ?? {};
  if (kv.mount !== undefined && !mount.test(kv.mount)) {
    problems.push({
      path: `${root}.kv.mount`,
      message: `"${kv.mount}" is not a mount path (no leading or trailing slash)`,
    });
  }
  if (kv.version !== undefined && kv.version !== 1 && kv.version !== 2) {
    problems.push({ path: `${root}.kv.version`, message: 'must be 1 or 2' });
  }
  if (spec.caBundle !== undefined && !decodesToPem(spec.caBundle)) {
    problems.push({ path: `${root}.caBundle`, message: 'must be a base64-encoded PEM certificate bundle' });
  }

  const auth = spec.auth ?? {};
  const chosen = exactlyOne(auth, ['kubernetes', 'appRole', 'tokenSecretRef'], `${root}.auth`);
  if (chosen.problem) return [...problems, chosen.problem];
  if (auth.kubernetes) {
    const path = `${root}.auth.kubernetes`;
    if (!auth.kubernetes.role) problems.push({ path: `${path}.role`, message: 'required' });
    if (auth.kubernetes.mountPath !== undefined && !mount.test(auth.kubernetes.mountPath)) {
      problems.push({ path: `${path}.mountPath`, message: 'is not a mount path' });
    }
    problems.push(
      ...serviceAccountRefProblems(scope, auth.kubernetes.serviceAccountRef, `${path}.serviceAccountRef`),
    );
  }
  if (auth.appRole) {
    const path = `${root}.auth.appRole`;
    if (!auth.appRole.roleId) problems.push({ path: `${path}.roleId`, message: 'required' });
    if (auth.appRole.mountPath !== undefined && !mount.test(auth.appRole.mountPath)) {
      problems.push({ path: `${path}.mountPath`, message: 'is not a mount path' });
    }
    problems.push(...secretKeyRefProblems(scope, auth.appRole.secretIdRef, `${path}.secretIdRef`));
  }
  if (auth.tokenSecretRef) {
    problems.push(...secretKeyRefProblems(scope, auth.tokenSecretRef, `${root}.auth.tokenSecretRef`));
  }
  return problems;
}

export function decodesToPem(base64: string): boolean {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(base64)) return false;
  return Buffer.from(base64, 'base64').toString('utf8').includes('-----BEGIN CERTIFICATE-----');
}
