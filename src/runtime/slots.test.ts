import { describe, expect, it } from 'vitest';
import { Slots } from './slots.ts';

/** A piece of work that stays running until `finish` is called. */
function held() {
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { work: () => done, finish };
}

const settle = async () => {
  for (let turn = 0; turn < 5; turn++) await Promise.resolve();
};

describe('Slots', () => {
  it('runs at most its size at once and starts the rest in arrival order as slots free up', async () => {
    const slots = new Slots(2);
    const never = new AbortController().signal;
    const started: number[] = [];
    const pieces = Array.from({ length: 4 }, () => held());
    const runs = pieces.map((piece, index) =>
      slots.run(never, () => {
        started.push(index);
        return piece.work();
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);
    pieces[1]!.finish();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    pieces[0]!.finish();
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const piece of pieces) piece.finish();
    await Promise.all(runs);
    expect(slots.taken).toBe(0);
  });

  it('frees the slot when the work fails', async () => {
    const slots = new Slots(1);
    const never = new AbortController().signal;
    await expect(slots.run(never, () => Promise.reject(new Error('store down')))).rejects.toThrow(
      'store down',
    );
    await expect(slots.run(never, () => Promise.resolve('read'))).resolves.toBe('read');
  });

  it('gives up the place in line on abort, never starting the work, and keeps the count right', async () => {
    const slots = new Slots(1);
    const never = new AbortController().signal;
    const first = held();
    const running = slots.run(never, first.work);
    const cancelled = new AbortController();
    let started = false;
    const waiting = slots.run(cancelled.signal, async () => {
      started = true;
    });
    cancelled.abort(new Error('a Job lost its access'));
    await expect(waiting).rejects.toThrow('a Job lost its access');
    first.finish();
    await running;
    expect(started).toBe(false);
    expect(slots.taken).toBe(0);
    await expect(slots.run(never, () => Promise.resolve('next'))).resolves.toBe('next');
  });
});
