import { describe, expect, it } from 'vitest';
import { templateProblem } from '../controller/secret-template.ts';
import { sprigFilters, translateGoTemplate } from './go-template.ts';

describe('translating ESO Go templates', () => {
  it.each([
    {
      what: 'a Postgres connection URL with an escaped password',
      source: 'postgresql://{{ .user }}:{{ .password | urlquery }}@{{ .host }}:5432/{{ .db }}',
      template: 'postgresql://{{ user }}:{{ password | url_encode }}@{{ host }}:5432/{{ db }}',
      changed: ['url_encode writes a space as %20, where urlquery wrote "+"'],
    },
    {
      what: 'a function called before its value',
      source: '{{ b64enc .token }}',
      template: '{{ token | base64_encode }}',
    },
    {
      what: 'a key that is not an identifier, through index',
      source: '{{ index . "api-key" | upper }}',
      template: '{{ ["api-key"] | upcase }}',
    },
    {
      what: 'whitespace trimming markers',
      source: 'user: {{- .user -}}\n',
      template: 'user: {{- user -}}\n',
    },
    {
      what: 'text without actions',
      source: 'plain literal',
      template: 'plain literal',
    },
  ])('translates $what', ({ source, template, changed = [] }) => {
    expect(translateGoTemplate(source)).toEqual({ translated: true, template, changed });
  });

  it.each([
    {
      what: 'a range over values (a dbt profiles.yml per target)',
      source: '{{ range $k, $v := . }}{{ $k }}: {{ $v }}\n{{ end }}',
      unsupported: ['control structure "range"', 'template variables ($)', 'control structure "end"'],
    },
    {
      what: 'a conditional',
      source: '{{ if .port }}{{ .port }}{{ else }}5432{{ end }}',
      unsupported: ['control structure "if"', 'control structure "else"', 'control structure "end"'],
    },
    {
      what: 'a sprig function without a counterpart (pkcs12 key extraction)',
      source: '{{ .keystore | pkcs12key | pemPrivateKey }}',
      unsupported: ['function "pkcs12key"', 'function "pemPrivateKey"'],
    },
    {
      what: 'text that Liquid would read as a tag',
      source: 'mode: {% raw %} {{ .user }}',
      unsupported: ['text holding "{%", which starts a Liquid tag'],
    },
    {
      what: 'a function with arguments',
      source: '{{ .host | default "localhost" }}',
      unsupported: ['function "default"'],
    },
  ])('lists what it cannot translate: $what', ({ source, unsupported }) => {
    expect(translateGoTemplate(source)).toEqual({ translated: false, unsupported });
  });

  it('writes only filters that secretlink’s templates offer', () => {
    for (const filter of Object.values(sprigFilters)) {
      expect(templateProblem('key', `{{ "x" | ${filter} }}`), filter).toBeUndefined();
    }
    expect(templateProblem('key', '{{ "x" | b64enc }}')).toBe('line 1, column 1: undefined filter: b64enc');
  });
});
