// Runs in every integration test file: each file starts with an empty moto (files run one at a time, see
// fileParallelism) and closes the store clients it may have opened.
import { afterAll, beforeAll } from 'vitest';
import { closeStoreClients, resetAwsStore } from './stores.ts';

beforeAll(() => resetAwsStore());
afterAll(() => closeStoreClients());
