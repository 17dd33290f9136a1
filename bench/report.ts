// What every benchmark shares: command-line arguments, percentiles, a description of the machine (taken when
// a run starts, load average included), and rewriting only its own section of docs/benchmarks.md.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** `--name=value` from the command line, or the fallback. */
export function argument(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  const found = process.argv.find((arg) => arg.startsWith(prefix));
  return found === undefined ? fallback : found.slice(prefix.length);
}

export function numberArgument(name: string, fallback: number): number {
  const value = Number(argument(name, String(fallback)));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

/** Nearest-rank percentile of an ascending array (`fraction` 0.5 is the median, 0.99 the p99). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  /** ISO time the run started, to the minute (UTC). */
  startedAt: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  load: [number, number, number];
}

/** Call at the very start of a run, before any server starts: the load average is part of the result. */
export function machineNow(): Machine {
  const cpus = os.cpus();
  const [one, five, fifteen] = os.loadavg();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    startedAt: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    load: [one ?? 0, five ?? 0, fifteen ?? 0],
  };
}

export function describeMachine(machine: Machine): string {
  const load = machine.load.map((value) => value.toFixed(2)).join(' / ');
  return (
    `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB memory, Node ${machine.node}, ` +
    `${process.platform}/${process.arch}. Run started ${machine.startedAt}; load average at the start ` +
    `${load} (1 / 5 / 15 min).`
  );
}

export const formatMs = (ms: number) => `${ms.toFixed(0)} ms`;
export const formatMiB = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;

/** Sections in the order the page shows them; a section a script writes for the first time goes in its place. */
const sectionOrder = [
  'environment',
  'providers',
  'controller',
  'limit',
  'exhaustion',
  'memory',
  'growth',
  'at-rest',
];

const pageHeader = [
  '# Benchmarks',
  '',
  'Every number on this page was written by the benchmark script named in its section, from a real run on',
  'the machine that section describes; `make bench` runs them all. Each script rewrites only its own section',
  '(between its `<!-- bench:... -->` markers), so sections can come from different runs and different days.',
  'All servers run on the same loopback interface and the same cores as the benchmark, so absolute times',
  'say more about this machine than about a cluster; the ratios and counts carry over.',
  '',
].join('\n');

const begin = (id: string) => `<!-- bench:${id} -->`;
const end = (id: string) => `<!-- /bench:${id} -->`;

/** Replaces the section `id` of the page (or adds it in its place), keeping every other section as it is. */
export async function writeSection(file: string, id: string, body: string): Promise<void> {
  let page = existsSync(file) ? await readFile(file, 'utf8') : pageHeader;
  const block = `${begin(id)}\n${body.trim()}\n${end(id)}`;
  const start = page.indexOf(begin(id));
  if (start !== -1) {
    const stop = page.indexOf(end(id), start);
    if (stop === -1) throw new Error(`${file}: ${begin(id)} has no closing ${end(id)}`);
    page = `${page.slice(0, start)}${block}${page.slice(stop + end(id).length)}`;
  } else {
    const position = sectionOrder.indexOf(id);
    const followers = position === -1 ? [] : sectionOrder.slice(position + 1);
    const later = followers.map((other) => page.indexOf(begin(other)));
    const before = Math.min(...later.filter((at) => at !== -1));
    page = Number.isFinite(before)
      ? `${page.slice(0, before)}${block}\n\n${page.slice(before)}`
      : `${page.trimEnd()}\n\n${block}\n`;
  }
  await writeFile(file, page);
  await formatMarkdown(file);
}

/** Pads the tables as the project's formatter does, so `npm run lint` accepts the page as written. */
async function formatMarkdown(file: string): Promise<void> {
  const root = path.resolve(import.meta.dirname, '..');
  try {
    await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', file], {
      cwd: root,
    });
  } catch (error) {
    process.stderr.write(
      `[bench] could not format ${file} (run \`npx biome format --write ${file}\`): ${error}\n`,
    );
  }
}

/**
 * Markdown from blocks: a string is a paragraph (wrapped to the page's 110 columns) unless it is a table or a
 * heading, which stay as they are; an array of strings is a bulleted list.
 */
export function markdown(blocks: (string | string[])[]): string {
  return blocks
    .map((block) =>
      Array.isArray(block)
        ? block.map((item) => wrap(`- ${item}`, '  ')).join('\n')
        : /^[|#]/.test(block)
          ? block
          : wrap(block, ''),
    )
    .join('\n\n');
}

function wrap(text: string, indent: string, width = 110): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/**
 * Waits (up to `maxWaitMs`) until the 1-minute load average is under `--quiet-load` (default 1.5), so a run
 * does not start while the machine is still busy with the previous one or with someone else's tests. The
 * load average at the start is recorded either way.
 */
export async function waitForQuietMachine(
  note: (message: string) => void,
  maxWaitMs = 300_000,
): Promise<void> {
  const threshold = Number(argument('quiet-load', '1.5'));
  const deadline = Date.now() + maxWaitMs;
  let told = false;
  while ((os.loadavg()[0] ?? 0) >= threshold && Date.now() < deadline) {
    if (!told)
      note(
        `waiting for the 1-minute load average (${os.loadavg()[0]?.toFixed(2)}) to drop under ${threshold}`,
      );
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  if ((os.loadavg()[0] ?? 0) >= threshold)
    note(`load average still ${os.loadavg()[0]?.toFixed(2)} after ${maxWaitMs / 1000} s; going ahead`);
}
