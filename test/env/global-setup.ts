// Starts the environment once for the integration project and hands its coordinates to every test file.
// At the end, before the environment stops, it checks the run's evidence (see evidence/end-of-run.ts) and
// fails the run if the canary leaked or an audit chain is broken.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { type EnvironmentInfo, type EnvironmentOptions, startEnvironment } from './environment.ts';
import { checkEndOfRun, runLayout } from './evidence/end-of-run.ts';
import { startEvidenceRecorder } from './evidence/recorder.ts';
import { consoleProgress } from './progress.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    environment: EnvironmentInfo;
    /** A value planted in every store by the canary test; it must never leave a Secret. */
    canary: string;
  }
}

export default function setup(project: TestProject) {
  return setupEnvironment(project, {});
}

/**
 * The same for any project; the end-to-end project (test/e2e) asks for the real node too, or on kind brings
 * the node's logs into the run folder (`beforeChecks`) so that the scan reads them.
 */
export async function setupEnvironment(
  project: TestProject,
  options: EnvironmentOptions,
  beforeChecks?: (runDir: string) => Promise<void>,
) {
  const progress = consoleProgress();
  const environment = await startEnvironment(progress, options);
  const { runDir } = environment.info;
  const canary = `canary-${randomBytes(16).toString('hex')}`;
  const recorder = await startEvidenceRecorder(
    environment.info.kubeconfig,
    path.join(runDir, runLayout.evidence),
  );
  project.provide('environment', environment.info);
  project.provide('canary', canary);

  return async () => {
    try {
      await recorder.stop();
      await beforeChecks?.(runDir);
      const { summary, failures } = await checkEndOfRun(runDir, canary);
      for (const line of summary) progress.step(line);
      if (failures.length > 0) {
        throw new Error(`the run's evidence failed its checks:\n  ${failures.join('\n  ')}`);
      }
    } finally {
      await environment.stop();
    }
  };
}
