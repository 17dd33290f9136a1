// `build`: build or verify every binary the environment needs (CI runs it before the tests so the
// cold build's progress is visible). `up`: start the environment and keep it up until Ctrl-C.

import { ensureComponent } from './build.ts';
import { allComponents } from './components.ts';
import { startEnvironment } from './environment.ts';
import { consoleProgress } from './progress.ts';

const progress = consoleProgress();
const command = process.argv[2];

if (command === 'build') {
  for (const component of allComponents) await ensureComponent(component, progress);
  progress.step('all components ready');
} else if (command === 'up') {
  const environment = await startEnvironment(progress);
  console.log(`\nexport KUBECONFIG=${environment.info.kubeconfig}`);
  console.log(`kubectl: ${environment.info.kubectl}`);
  console.log('The environment stays up until you press Ctrl-C.');
  const stop = async () => {
    progress.step('stopping');
    await environment.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else {
  console.error('usage: node test/env/cli.ts build|up');
  process.exit(2);
}
