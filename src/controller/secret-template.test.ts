// target.template rendering: what a data team composes (URLs, profiles.yml, config JSON, .pgpass), the
// filters, Replace and Merge, the sandbox's refusals and limits, and errors that never hold a value.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { SecretTemplate } from '../api/types.ts';
import { applyTemplate, renderTemplate, TemplateError, type TemplateLimits } from './secret-template.ts';

const canary = 'CANARY-tmpl-7f3e:p@ss/w rd';

function values(entries: Record<string, string | Buffer>): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(entries)) {
    Object.defineProperty(out, key, {
      value: typeof value === 'string' ? Buffer.from(value) : value,
      enumerable: true,
      writable: true,
    });
  }
  return out;
}

const warehouse = () =>
  values({
    user: 'loader',
    password: canary,
    host: 'db.internal',
    'db.name': 'analytics',
    'my-key': 'hyphen',
  });

function render(source: string, from = warehouse(), limits?: TemplateLimits): string {
  return renderTemplate({ data: { out: source } }, from, limits).out!.toString('utf8');
}

function failure(source: string, from = warehouse(), limits?: TemplateLimits): TemplateError {
  try {
    renderTemplate({ data: { out: source } }, from, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as Error).message).not.toContain(canary);
    expect((error as Error).message).not.toContain('CANARY');
    return error as TemplateError;
  }
  throw new Error('the template rendered');
}

describe('a template composes the values a data tool wants', () => {
  it('builds a postgres URL whose user and password are percent-encoded, a space as %20', () => {
    const url = render(
      'postgresql://{{ user | url_encode }}:{{ password | url_encode }}@{{ host }}:5432/{{ ["db.name"] }}',
    );
    expect(url).toBe('postgresql://loader:CANARY-tmpl-7f3e%3Ap%40ss%2Fw%20rd@db.internal:5432/analytics');
    expect(decodeURIComponent(new URL(url).password)).toBe(canary);
  });

  it('reaches a key that is not a Liquid name with ["..."], and a hyphenated one by name', () => {
    expect(render('{{ ["db.name"] }} {{ my-key }} {{ ["my-key"] }}')).toBe('analytics hyphen hyphen');
  });

  it('writes a dbt profiles.yml that parses back to the exact values, a multi-line one included', () => {
    const from = values({ user: 'loader', password: "it's: a\n# not a comment" });
    const profile = render(
      [
        'warehouse:',
        '  target: prod',
        '  outputs:',
        '    prod:',
        '      type: postgres',
        '      user: {{ user | yaml }}',
        '      password: {{ password | yaml }}',
      ].join('\n'),
      from,
    );
    expect(parseYaml(profile).warehouse.outputs.prod).toEqual({
      type: 'postgres',
      user: 'loader',
      password: "it's: a\n# not a comment",
    });
  });

  it('writes an Airbyte config JSON that parses back to the exact values', () => {
    const from = values({ password: 'q"uote\\back\nline', port: '5432' });
    const config = render('{"password": {{ password | json }}, "port": {{ port }}, "ssl": true}', from);
    expect(JSON.parse(config)).toEqual({ password: 'q"uote\\back\nline', port: 5432, ssl: true });
  });

  it('writes a .pgpass line with colon and backslash escaped', () => {
    const from = values({ password: 'a:b\\c' });
    expect(render('db.internal:5432:*:loader:{{ password | pgpass_escape }}', from)).toBe(
      'db.internal:5432:*:loader:a\\:b\\\\c',
    );
  });

  it('builds a dockerconfigjson from registry, user and token', () => {
    const from = values({ registry: 'ghcr.io', user: 'bot', token: 'ghp_x' });
    const config = render(
      '{"auths": {{ "{" }}{{ registry | json }}: {"auth": {{ user | append: ":" | append: token | base64_encode | json }}}}}',
      from,
    );
    expect(JSON.parse(config)).toEqual({
      auths: { 'ghcr.io': { auth: Buffer.from('bot:ghp_x').toString('base64') } },
    });
  });

  it('quotes for SQL, shell and JSON-style double quotes', () => {
    const from = values({ v: "it's" });
    expect(render('{{ v | squote }} {{ v | shell_quote }} {{ v | quote }}', from)).toBe(
      `'it''s' 'it'\\''s' "it's"`,
    );
  });

  it('offers the names the migration command writes for sprig functions', () => {
    const from = values({ v: '  Mixed Case  ', b: Buffer.from('hello').toString('base64') });
    expect(render('{{ v | strip | upcase }}|{{ v | downcase | string }}|{{ b | base64_decode }}', from)).toBe(
      'MIXED CASE|  mixed case  |hello',
    );
    expect(render('{{ "hello" | base64_encode }}')).toBe('aGVsbG8=');
  });

  it('writes a template without tags as it is, and {% raw %} keeps braces', () => {
    expect(render('sslmode=require')).toBe('sslmode=require');
    expect(render('{% raw %}{{ user }}{% endraw %}')).toBe('{{ user }}');
  });

  it('encodes a value that is not UTF-8 with base64_encode, byte for byte, and refuses any other use', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    expect(render('{{ keystore | base64_encode }}', values({ keystore: bytes }))).toBe(
      bytes.toString('base64'),
    );
    for (const source of [
      '{{ keystore.bytes }}',
      '{{ keystore.base64 }}',
      '{{ keystore.key }}',
      '{{ keystore.constructor }}',
    ]) {
      expect(failure(source, values({ keystore: bytes })).message, source).toContain('undefined variable');
    }
    expect(failure('{{ keystore }}', values({ keystore: bytes })).message).toBe(
      'target.template key "out": the value of key "keystore" is not UTF-8 text; only base64_encode can use it',
    );
  });
});

describe('Replace and Merge', () => {
  const template = (mergePolicy?: SecretTemplate['mergePolicy']): SecretTemplate => ({
    data: { DATABASE_URL: 'postgresql://{{ user }}@{{ host }}', user: 'override' },
    ...(mergePolicy ? { mergePolicy } : {}),
  });

  it('writes only the templated keys by default, and zeroes the resolved values it drops', () => {
    const resolved = warehouse();
    const password = resolved.password!;
    const data = applyTemplate(template(), resolved);
    expect(Object.keys(data).sort()).toEqual(['DATABASE_URL', 'user']);
    expect(data.DATABASE_URL!.toString()).toBe('postgresql://loader@db.internal');
    expect(password.every((byte) => byte === 0)).toBe(true);
  });

  it('keeps every resolved key with Merge, a templated key winning over a resolved one', () => {
    const data = applyTemplate(template('Merge'), warehouse());
    expect(Object.keys(data).sort()).toEqual([
      'DATABASE_URL',
      'db.name',
      'host',
      'my-key',
      'password',
      'user',
    ]);
    expect(data.user!.toString()).toBe('override');
    expect(data.password!.toString()).toBe(canary);
  });
});

describe('the sandbox', () => {
  it('reads no property a value or the variables inherit', () => {
    for (const source of [
      '{{ constructor }}',
      '{{ password.constructor }}',
      '{{ password.constructor.name }}',
      '{{ __proto__ }}',
      '{{ toString }}',
      '{{ ["hasOwnProperty"] }}',
    ]) {
      expect(failure(source).message, source).toContain('undefined variable');
    }
  });

  it('reads no file: include, render and layout are not tags', () => {
    for (const tag of ['include', 'render', 'layout']) {
      expect(failure(`{% ${tag} "/etc/passwd" %}`).message).toBe(
        `target.template key "out", line 1, column 1: tag "${tag}" not found`,
      );
    }
  });

  it('stops a loop that would build more than the memory limit, before building it', () => {
    expect(failure('{% for i in (1..100000000) %}x{% endfor %}').message).toContain(
      'rendering built more than the memory limit allows',
    );
    expect(
      failure(
        '{% assign s = password %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}',
      ).message,
    ).toContain('memory limit');
  });

  it('charges what capture builds, so a captured string doubled in a loop stops at the memory limit', () => {
    const limits: TemplateLimits = { maxOutput: 1000, renderMs: 10_000, memory: 1_000_000 };
    const doubled =
      '{% capture s %}{{ password }}{% endcapture %}' +
      '{% capture s %}{{ s }}{{ s }}{% endcapture %}'.repeat(17) +
      '{{ s | size }}';
    expect(failure(doubled, warehouse(), limits).message).toContain(
      'rendering built more than the memory limit allows',
    );
    expect(render('{% capture s %}{{ user }}@{{ host }}{% endcapture %}{{ s }}')).toBe('loader@db.internal');
  });

  it('stops output at the cap, per key', () => {
    const limits: TemplateLimits = { maxOutput: 1000, renderMs: 10_000, memory: 1_000_000 };
    expect(
      failure('{% for i in (1..500) %}{{ password }}{% endfor %}', warehouse(), limits).message,
    ).toContain('the output is larger than 1000 bytes');
    expect(render('{% for i in (1..10) %}{{ password }}{% endfor %}', warehouse(), limits)).toHaveLength(
      10 * canary.length,
    );
  });

  it('stops rendering once the keys together pass the cap, before rendering the rest', () => {
    const limits: TemplateLimits = { maxOutput: 1000, renderMs: 10_000, memory: 1_000_000 };
    const data = Object.fromEntries(
      ['a', 'b', 'c', 'd'].map((key) => [key, `{% for i in (1..600) %}x{% endfor %}{{ ${key}_missing }}`]),
    );
    data.a = '{% for i in (1..600) %}x{% endfor %}';
    data.b = '{% for i in (1..600) %}y{% endfor %}';
    expect(() => renderTemplate({ data }, warehouse(), limits)).toThrow(
      'target.template key "b": the keys rendered so far are larger than 1000 bytes',
    );
  });

  it('stops a render that runs past its time', () => {
    const limits: TemplateLimits = { maxOutput: 1000, renderMs: -1, memory: 1_000_000 };
    expect(failure('{{ user }}', warehouse(), limits).message).toContain('rendering took longer than -1 ms');
  });

  // The budget is checked before every filter and operator, not only between tags: one output can chain
  // filters that each walk a list, and a single tag must not hold the event loop for seconds.
  it('stops a render inside one output, between the filters of a chain', () => {
    const chain = ' | where_exp: "x", "true"'.repeat(400);
    expect(failure(`{% assign list = (1..10000) %}{{ list${chain} | size }}`).message).toContain(
      'rendering took longer than 250 ms',
    );
  });

  it('refuses a list longer than 10000 items to any filter, so no one filter call runs long', () => {
    for (const source of [
      '{% assign list = (1..10001) %}{{ list | sort | size }}',
      '{% assign list = (1..10001) %}{{ list | where_exp: "x", "x == 1" | size }}',
      '{% assign s = "ab" %}{% for i in (1..14) %}{% assign s = s | append: s %}{% endfor %}{{ s | split: "" | group_by_exp: "x", "x" | size }}',
      '{% assign list = (1..6000) %}{{ "" | split: "," | concat: list | concat: list | uniq | size }}',
    ]) {
      expect(failure(source).message, source).toContain('a filter was given a list of more than 10000 items');
    }
    expect(render('{% assign list = (1..10000) %}{{ list | sort | size }}')).toBe('10000');
  });

  it('refuses an unknown filter when the template is read', () => {
    expect(failure('{{ password | shell_exec }}').message).toBe(
      'target.template key "out", line 1, column 1: undefined filter: shell_exec',
    );
  });

  it('refuses a key that cannot be a Secret key, and a template longer than the limit', () => {
    expect(() => renderTemplate({ data: { 'my key': 'x' } }, warehouse())).toThrow(
      'target.template key "my key" cannot be a Secret key',
    );
    expect(() => renderTemplate({ data: { big: 'x'.repeat(32_769) } }, warehouse())).toThrow(
      'longer than 32768 characters',
    );
  });
});

describe('errors name the key and what went wrong, never a value', () => {
  const undefinedVariable =
    'undefined variable (a value is reached by its Secret key; a key that is not a Liquid name as ["my.key"])';

  it('names an undefined variable by the names the template text reads that are not keys', () => {
    const error = failure('host={{ host }}\npassword={{ pasword }}');
    expect(error.key).toBe('out');
    expect(error.message).toBe(
      `target.template key "out": ${undefinedVariable}; the template reads "pasword", which no key is named`,
    );
  });

  // A position, or the text of the tag that failed, tells which branch ran: a case over a value's first
  // character would spell the value into status and Events one edit at a time.
  it('says nothing in a render error that depends on which branch the values took', () => {
    const oracle =
      '{% assign first = password | slice: 0 %}{% case first %}{% when "A" %}{{ a }}' +
      '{% when "C" %}{{ c }}{% else %}{{ other }}{% endcase %}';
    const messages = ['Apple', canary, 'zebra'].map(
      (password) => failure(oracle, values({ password })).message,
    );
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).toBe(
      `target.template key "out": ${undefinedVariable}; the template reads "a", "c", "other", which no key is named`,
    );
    const limits: TemplateLimits = { maxOutput: 1000, renderMs: 10_000, memory: 1_000_000 };
    const bounded = '{% if password contains "C" %}{% for i in (1..2000) %}x{% endfor %}{% endif %}';
    expect(failure(bounded, warehouse(), limits).message).toBe(
      'target.template key "out": the output is larger than 1000 bytes',
    );
  });

  it('keeps a value out of the message where Liquid’s own message would hold it', () => {
    // Liquid reports a missing variable by the name it looked up, here the password itself, and for a
    // filter's argument even points at a piece of text made of the value.
    expect(failure('{{ host[password] }}').message).toBe(`target.template key "out": ${undefinedVariable}`);
    expect(failure('{% assign x = password | split: "" %}\n{{ x | where: password }}').message).toBe(
      `target.template key "out": ${undefinedVariable}`,
    );
    const base64 = failure('{{ password | base64_decode }}');
    expect(base64.message).toContain('base64_decode was given text that is not base64');
  });

  it('reports a parse error with Liquid’s message about the template text', () => {
    expect(failure('line one\n{% if %}').message).toBe(
      'target.template key "out", line 2, column 6: invalid value expression: ""',
    );
    expect(failure('{% for x in %}').message).toMatch(/^target\.template key "out", line 1, column \d+: /);
  });
});
