// Runs in every integration test file: each file starts with an empty moto (files run one at a time, see
// fileParallelism) and closes the gRPC channel it may have opened to the GCP emulator.
import { afterAll, beforeAll } from 'vitest';
import { closeGcpClient, resetAwsStore } from './stores.ts';

beforeAll(() => resetAwsStore());
afterAll(() => closeGcpClient());
