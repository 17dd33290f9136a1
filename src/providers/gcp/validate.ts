// Static checks of a GCP store spec, with the path of each problem.
import { secretKeyRefProblems, serviceAccountRefProblems } from '../credentials.ts';
import { storeHostProblems } from '../store-hosts.ts';
import type { GcpProviderSpec, StoreScope } from '../store-spec.ts';
import type { ValidationProblem } from '../types.ts';
import { exactlyOne } from '../validation.ts';
import { parseEndpoint } from './endpoint.ts';

// Kept here rather than beside the auth code: validation runs without loading Google's auth library.
const workloadIdentityAudience =
  /^(https:)?\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/[^/]+\/providers\/[^/]+$/;

const root = 'spec.provider.gcp';
// Project ids may be domain-scoped (example.com:my-project), as the CRD allows.
const projectPattern = /^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const emailPattern = /^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$/;

export function validateGcp(spec: GcpProviderSpec, scope: StoreScope): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if (!spec.projectID) problems.push({ path: `${root}.projectID`, message: 'required' });
  else if (!projectPattern.test(spec.projectID)) {
    problems.push({ path: `${root}.projectID`, message: `"${spec.projectID}" is not a GCP project id` });
  }
  if (spec.endpoint !== undefined) {
    const endpoint = parseEndpoint(spec.endpoint);
    if (!endpoint)
      problems.push({ path: `${root}.endpoint`, message: `"${spec.endpoint}" is not host:port` });
    else problems.push(...storeHostProblems(scope, endpoint.host, `${root}.endpoint`));
  }

  const auth = spec.auth ?? {};
  const chosen = exactlyOne(auth, ['applicationDefault', 'workloadIdentity', 'secretRef'], `${root}.auth`);
  if (chosen.problem) return [...problems, chosen.problem];
  if (auth.applicationDefault && scope.kind === 'SecretStore') {
    problems.push({
      path: `${root}.auth.applicationDefault`,
      message:
        "is the operator's own Google identity, which only a ClusterSecretStore may use: use workloadIdentity " +
        'or secretRef, or ask an administrator for a ClusterSecretStore',
    });
  }
  if (auth.secretRef) {
    problems.push(...secretKeyRefProblems(scope, auth.secretRef.keyJSON, `${root}.auth.secretRef.keyJSON`));
  }
  if (auth.workloadIdentity) {
    const path = `${root}.auth.workloadIdentity`;
    const account = auth.workloadIdentity.serviceAccountRef;
    problems.push(...serviceAccountRefProblems(scope, account, `${path}.serviceAccountRef`));
    if (account && !workloadIdentityAudience.test(account.audience ?? '')) {
      problems.push({
        path: `${path}.serviceAccountRef.audience`,
        message:
          'must name the workload identity pool provider: //iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>',
      });
    }
    const email = auth.workloadIdentity.serviceAccountEmail;
    if (email !== undefined && !emailPattern.test(email)) {
      problems.push({
        path: `${path}.serviceAccountEmail`,
        message: 'must be a service account e-mail address',
      });
    }
  }
  return problems;
}
