// `build`: build or verify every binary the environment needs (CI runs it before the tests so the
// cold build's progress is visible). `up`: start the environment and keep it up until Ctrl-C.

import path from 'node:path';
import { ensureComponent } from './build.ts';
import { controlPlaneComponents, kubeconform } from './components.ts';
import { startEnvironment } from './environment.ts';
import { consoleProgress } from './progress.ts';
import { writeStoresEnvFile } from './stores/env-file.ts';
import { buildStores } from './stores/start.ts';

const progress = consoleProgress();
const command = process.argv[2];

if (command === 'build') {
  for (const component of controlPlaneComponents) await ensureComponent(component, progress);
  await buildStores(progress);
  // The unit project's offline CRD check uses it; building it here shows its progress before the tests.
  await ensureComponent(kubeconform, progress);
  progress.step('all components ready');
} else if (command === 'up') {
  const environment = await startEnvironment(progress);
  console.log(`\nexport KUBECONFIG=${environment.info.kubeconfig}`);
  console.log(`kubectl: ${environment.info.kubectl}`);
  const { aws, gcp, vault } = environment.info.stores;
  console.log(`AWS Secrets Manager (moto): ${aws.endpoint} region ${aws.region}`);
  console.log(`GCP Secret Manager emulator: ${gcp.endpoint} project ${gcp.projectID}`);
  console.log(`Vault: ${vault.address}`);
  const envFile = path.join(environment.info.runDir, 'stores.env');
  await writeStoresEnvFile(envFile, environment.info.stores);
  console.log(`Store addresses and the Vault token: source ${envFile}`);
  console.log('The environment stays up until you press Ctrl-C.');
  const stop = async () => {
    progress.step('stopping');
    await environment.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // The supervised servers are detached children, so nothing else keeps this process (and its Ctrl-C
  // handler) alive.
  setInterval(() => {}, 60_000);
} else {
  console.error('usage: node test/env/cli.ts build|up');
  process.exit(2);
}
