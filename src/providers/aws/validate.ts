// Static checks of an AWS store spec: what the CRD schema cannot express, with the path of each problem.
import { secretKeyRefProblems, serviceAccountRefProblems } from '../credentials.ts';
import { serverUrlProblems } from '../store-hosts.ts';
import type { AwsProviderSpec } from '../store-spec.ts';
import type { StoreScope, ValidationProblem } from '../types.ts';
import { exactlyOne } from '../validation.ts';

const root = 'spec.provider.aws';
const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const roleArnPattern = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export function validateAws(spec: AwsProviderSpec, scope: StoreScope): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if (!spec.region) problems.push({ path: `${root}.region`, message: 'required' });
  else if (!regionPattern.test(spec.region)) {
    problems.push({
      path: `${root}.region`,
      message: `"${spec.region}" is not an AWS region name (e.g. eu-west-1)`,
    });
  }
  if (spec.endpoint !== undefined) {
    problems.push(...serverUrlProblems(spec.endpoint, spec.allowInsecureHttp, scope, `${root}.endpoint`));
  }

  const auth = spec.auth ?? {};
  const chosen = exactlyOne(auth, ['defaultChain', 'webIdentity', 'secretRef'], `${root}.auth`);
  if (chosen.problem) return [...problems, chosen.problem];
  if (auth.defaultChain && scope.kind === 'SecretStore') {
    problems.push({
      path: `${root}.auth.defaultChain`,
      message:
        "is the operator's own AWS identity, which only a ClusterSecretStore may use: use webIdentity or " +
        'secretRef, or ask an administrator for a ClusterSecretStore',
    });
  }
  if (auth.webIdentity) {
    const path = `${root}.auth.webIdentity`;
    if (!roleArnPattern.test(auth.webIdentity.roleArn ?? '')) {
      problems.push({
        path: `${path}.roleArn`,
        message: 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
      });
    }
    problems.push(
      ...serviceAccountRefProblems(scope, auth.webIdentity.serviceAccountRef, `${path}.serviceAccountRef`),
    );
  }
  if (auth.secretRef) {
    const path = `${root}.auth.secretRef`;
    problems.push(...secretKeyRefProblems(scope, auth.secretRef.accessKeyId, `${path}.accessKeyId`));
    problems.push(...secretKeyRefProblems(scope, auth.secretRef.secretAccessKey, `${path}.secretAccessKey`));
    if (auth.secretRef.sessionToken) {
      problems.push(...secretKeyRefProblems(scope, auth.secretRef.sessionToken, `${path}.sessionToken`));
    }
  }
  return problems;
}
