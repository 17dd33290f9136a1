import { describe, expect, it } from 'vitest';
import { RetryingSink, type RetryOptions } from './retrying-sink.ts';
import type { AuditRecord, AuditSink } from './types.ts';

const record: AuditRecord = {
  id: '0123456789abcdef0123456789abcdef',
  time: '2025-01-01T10:00:00.000Z',
  action: 'Materialized',
  reference: { namespace: 'etl', name: 'warehouse' },
  remotes: [],
  targetSecret: { namespace: 'etl', name: 'warehouse' },
  reason: 'SecretCreated',
  message: 'Secret warehouse made available to Job load.',
};

/** A sink that fails while `down` is true and keeps what it took; timers run when the test says. */
function scene(options: Partial<RetryOptions> = {}) {
  const state = { down: true, written: [] as string[], retries: [] as number[], givenUp: 0 };
  const timers: { run: () => void; delayMs: number; cancelled: boolean }[] = [];
  const inner: AuditSink = {
    name: 'events',
    write: async (entry) => {
      if (state.down) throw new Error('fetch failed');
      state.written.push(entry.id);
    },
  };
  const sink = new RetryingSink(inner, {
    delaysMs: [1_000, 2_000],
    maxPending: 10,
    onRetry: (_error, attempt) => state.retries.push(attempt),
    onGiveUp: () => {
      state.givenUp++;
    },
    schedule: (run, delayMs) => {
      const timer = { run, delayMs, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    random: () => 0,
    ...options,
  });
  const fireNext = async () => {
    const timer = timers.shift()!;
    if (!timer.cancelled) timer.run();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { sink, state, timers, fireNext };
}

describe('a sink retried in the background', () => {
  it('records a write that failed while the API server was away once it answers again', async () => {
    const { sink, state, timers, fireNext } = scene();
    await expect(sink.write(record)).resolves.toBeUndefined();
    expect(sink.pending).toBe(1);
    expect(timers[0]!.delayMs).toBe(1_000);
    await fireNext();
    expect(timers[0]!.delayMs).toBe(2_000);
    state.down = false;
    await fireNext();
    expect(state.written).toEqual([record.id]);
    expect(state.retries).toEqual([1, 2]);
    expect(state.givenUp).toBe(0);
    expect(sink.pending).toBe(0);
  });

  it('gives a record up, and says so, once every retry failed', async () => {
    const { sink, state, fireNext } = scene();
    await sink.write(record);
    await fireNext();
    await fireNext();
    expect(state.givenUp).toBe(1);
    expect(state.written).toEqual([]);
    expect(sink.pending).toBe(0);
  });

  it('holds at most maxPending records, giving up the rest at once', async () => {
    const { sink, state } = scene({ maxPending: 1 });
    await sink.write(record);
    await sink.write({ ...record, id: 'f'.repeat(32) });
    expect(sink.pending).toBe(1);
    expect(state.givenUp).toBe(1);
  });

  it('writes through without retrying when the sink takes the record', async () => {
    const { sink, state, timers } = scene();
    state.down = false;
    await sink.write(record);
    expect(state.written).toEqual([record.id]);
    expect(timers).toEqual([]);
  });

  it('drops its pending retries when closed, so a stopped operator writes nothing more', async () => {
    const { sink, state, timers, fireNext } = scene();
    await sink.write(record);
    await sink.close();
    state.down = false;
    expect(timers[0]!.cancelled).toBe(true);
    await fireNext();
    expect(state.written).toEqual([]);
  });
});
