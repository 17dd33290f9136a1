import { defineConfig } from 'vitest/config';

// Unit tests sit next to the code they test and need no server. Integration tests run against the real
// control plane and stores that the global setup starts once per run. End-to-end tests run the operator from
// its image on a real node (containerd and a kubelet, test/env/node), started only for that project.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/env/global-setup.ts'],
          setupFiles: ['test/support/stores-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // The files share one control plane; running them one at a time keeps a 2-core machine responsive.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          setupFiles: ['test/support/stores-setup.ts'],
          // Real containers: generous limits, polled, never timed assertions.
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
