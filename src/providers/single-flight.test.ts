import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('SingleFlight', () => {
  it('runs one call for concurrent callers of the same key and gives each the result', async () => {
    const flights = new SingleFlight<string>();
    const answer = deferred<string>();
    let calls = 0;
    const work = () => {
      calls += 1;
      return answer.promise;
    };
    const first = flights.run('k', undefined, work);
    const second = flights.run('k', undefined, work);
    answer.resolve('v1');
    expect(await Promise.all([first.result, second.result])).toEqual(['v1', 'v1']);
    expect([first.joined, second.joined]).toEqual([false, true]);
    expect(calls).toBe(1);
    expect(flights.inFlight).toBe(0);
  });

  it('lets one caller give up without failing the others', async () => {
    const flights = new SingleFlight<string>();
    const answer = deferred<string>();
    const quitter = new AbortController();
    const first = flights.run('k', quitter.signal, () => answer.promise);
    const second = flights.run('k', undefined, () => answer.promise);
    quitter.abort(new Error('caller gave up'));
    await expect(first.result).rejects.toThrow('caller gave up');
    answer.resolve('v1');
    await expect(second.result).resolves.toBe('v1');
  });

  it('aborts the shared call when every caller has given up', async () => {
    const flights = new SingleFlight<string>();
    let sharedSignal: AbortSignal | undefined;
    const quitter = new AbortController();
    const flight = flights.run('k', quitter.signal, (signal) => {
      sharedSignal = signal;
      return new Promise<string>(() => {});
    });
    quitter.abort(new Error('gone'));
    await expect(flight.result).rejects.toThrow('gone');
    expect(sharedSignal?.aborted).toBe(true);
    expect(flights.inFlight).toBe(0);
  });

  it('starts a new call once the previous one settled', async () => {
    const flights = new SingleFlight<number>();
    let calls = 0;
    const work = async () => ++calls;
    expect(await flights.run('k', undefined, work).result).toBe(1);
    expect(await flights.run('k', undefined, work).result).toBe(2);
  });
});
