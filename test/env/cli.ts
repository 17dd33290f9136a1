// `build`: build or verify every binary the environment needs (CI runs it before the tests so the
// cold build's progress is visible); `build --real-node` also the real node's kubelet and the operator's
// image, after checking that the machine can run it; `build --external-secrets` also External Secrets Operator,
// which only bench/eso.ts runs. `up`: start the environment and keep it up until Ctrl-C. `demo`: the
// same, with the operator running on it and a data team's CronJob using a SecretReference (see demo.ts).
// `up --real-node` also starts the real node (test/env/node) with the operator's image imported.

import path from 'node:path';
import { buildEverything } from './build-all.ts';
import { demoNamespace, startDemo, startFirstRun } from './demo.ts';
import { type Environment, startEnvironment } from './environment.ts';
import { ensureOperatorImage } from './image/operator-image.ts';
import { startNarrator } from './narrator.ts';
import { findHostPrograms } from './node/host.ts';
import { consoleProgress } from './progress.ts';
import { kubectlShortcut } from './shortcut.ts';
import { writeStoresEnvFile } from './stores/env-file.ts';

const progress = consoleProgress();
const command = process.argv[2];

if (command === 'build') {
  await buildEverything(progress, {
    realNode: process.argv.includes('--real-node'),
    externalSecrets: process.argv.includes('--external-secrets'),
  });
} else if (command === 'up' || command === 'demo') {
  const realNode = process.argv.includes('--real-node');
  const environment = await startEnvironment(progress, {
    realNode,
    nodeImages: async (imageProgress) => [await ensureOperatorImage(findHostPrograms(), imageProgress)],
  });
  let stopDemo = async () => {};
  try {
    await describeEnvironment(environment);
    if (command === 'demo') {
      const demo = await startDemo(environment.info, progress);
      stopDemo = demo.stop;
      const narrator = await startNarrator(
        environment.info,
        { namespace: demoNamespace, secretName: 'warehouse', auditFile: demo.auditFile },
        (line) => console.log(line),
      );
      stopDemo = async () => {
        await narrator.stop();
        await demo.stop();
      };
      console.log(`
The operator runs as \`node src/main.ts\`; its log: ${demo.operatorLog}
Its audit file: ${demo.auditFile} (check it: node src/audit/verify-cli.ts --public-key=${demo.auditPublicKeyFile} ${demo.auditFile})
Metrics: http://${demo.probeAddress}/metrics

In another terminal, after the export line above:
  kubectl -n ${demoNamespace} get secretreferences,jobs,secrets
  kubectl -n ${demoNamespace} create job --from=cronjob/nightly-dbt again     # another dbt run
  kubectl -n ${demoNamespace} run intruder --image=busybox --overrides='{"spec":{"volumes":[{"name":"s","secret":{"secretName":"warehouse"}}]}}'

Everything stays up until you press Ctrl-C. What happens, as it happens (the CronJob starts a dbt run every
two minutes; a first one starts now):`);
      await startFirstRun(environment.info);
    }
  } catch (error) {
    await stopDemo();
    await environment.stop();
    throw error;
  }
  if (command === 'up') console.log('\nEverything stays up until you press Ctrl-C.');
  const stop = async () => {
    progress.step('stopping');
    await stopDemo();
    await environment.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // The supervised servers are detached children, so nothing else keeps this process (and its Ctrl-C
  // handler) alive.
  setInterval(() => {}, 60_000);
} else {
  console.error('usage: node test/env/cli.ts build [--real-node] [--external-secrets]|up [--real-node]|demo');
  process.exit(2);
}

async function describeEnvironment(environment: Environment): Promise<void> {
  const { info } = environment;
  console.log(`\nPoint kubectl at it (copy and paste into any terminal):\n  ${await kubectlShortcut(info)}`);
  const { aws, gcp, vault } = info.stores;
  console.log(`AWS Secrets Manager (moto): ${aws.endpoint} region ${aws.region}`);
  console.log(`GCP Secret Manager emulator: ${gcp.endpoint} project ${gcp.projectID}`);
  console.log(`Vault: ${vault.address}`);
  if (info.realNode) {
    console.log(
      `Real node: ${info.realNode.name} (pods select secretlink.dev/node=real, hostNetwork); ` +
        `containers' logs in ${info.realNode.podLogsDir}`,
    );
  }
  const envFile = path.join(info.runDir, 'stores.env');
  await writeStoresEnvFile(envFile, info.stores);
  console.log(`Store addresses and the Vault token: source ${envFile}`);
}
