// Starts the environment once for the integration project and hands its coordinates to every test file.
import type { TestProject } from 'vitest/node';
import { type EnvironmentInfo, startEnvironment } from './environment.ts';
import { consoleProgress } from './progress.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    environment: EnvironmentInfo;
  }
}

export default async function setup(project: TestProject) {
  const environment = await startEnvironment(consoleProgress());
  project.provide('environment', environment.info);
  return () => environment.stop();
}
