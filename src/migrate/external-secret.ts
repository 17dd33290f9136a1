// ESO ExternalSecret → secretlink SecretReference. Which Jobs may consume the Secret is something ESO never
// knew, so `consumers` is left as `{}`: the API server refuses it ("spec.consumers must select Jobs by at
// least one label") until the user fills it in, and the rendered YAML carries a comment saying so.
import { parseDuration } from '../api/duration.ts';
import type { DataEntry, DataFromEntry, Decoding, SecretReference, StoreRef, Target } from '../api/types.ts';
import { templateProblem } from '../controller/secret-template.ts';
import { convertDecoding } from './decoding.ts';
import { type Fields, fields, list, otherKeys, stringMap, text, userMetadata } from './fields.ts';
import { convertFind } from './find.ts';
import type { FindingList } from './findings.ts';
import { translateGoTemplate } from './go-template.ts';
import { convertRewrite } from './rewrite.ts';

const crdDuration = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const reservedPrefix = 'secretlink.dev/';
const maxData = 64;
const maxDataFrom = 16;

export function convertExternalSecret(doc: Fields, findings: FindingList): SecretReference {
  const spec = fields(doc.spec) ?? {};
  const storeRef = convertStoreRef(spec.secretStoreRef, findings);
  const data = convertData(spec.data, storeRef, findings);
  const dataFrom = convertDataFrom(spec.dataFrom, storeRef, findings);
  const target = convertTarget(spec.target, findings, data.length > 0 || dataFrom.length > 0);
  const refreshInterval = convertRefreshInterval(spec.refreshInterval, findings);
  if (spec.refreshPolicy !== undefined && spec.refreshPolicy !== 'Periodic') {
    findings.changed(
      'spec.refreshPolicy',
      `is ${text(spec.refreshPolicy)}; secretlink writes the Secret when a consuming Job starts and re-checks it every refreshInterval while Jobs run`,
    );
  }
  for (const key of otherKeys(spec, [
    'secretStoreRef',
    'data',
    'dataFrom',
    'target',
    'refreshInterval',
    'refreshPolicy',
  ])) {
    findings.changed(`spec.${key}`, 'has no secretlink equivalent and is not carried over');
  }
  findings.action(
    'spec.consumers',
    'ESO has no consumers: fill in which Jobs may use the Secret (matchLabels/matchExpressions over the Job’s pod labels, optionally serviceAccountNames); the API server refuses the reference until then',
  );
  if (data.length === 0 && dataFrom.length === 0) {
    findings.action(
      'spec',
      'no data or dataFrom entry could be carried over (the API server refuses the reference until one is added)',
    );
  }
  return {
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretReference',
    metadata: userMetadata(doc.metadata),
    spec: {
      storeRef,
      ...(data.length > 0 ? { data } : {}),
      ...(dataFrom.length > 0 ? { dataFrom } : {}),
      ...(target ? { target } : {}),
      consumers: {},
      ...(refreshInterval ? { refreshInterval } : {}),
    },
  };
}

function convertStoreRef(value: unknown, findings: FindingList): StoreRef {
  const ref = fields(value);
  const name = text(ref?.name);
  if (!name) {
    findings.action(
      'spec.secretStoreRef',
      'is not set (ESO then takes the store from each entry’s sourceRef); secretlink needs one store per reference: fill in storeRef.name',
    );
  }
  return {
    ...(ref?.kind === 'ClusterSecretStore' ? { kind: 'ClusterSecretStore' as const } : {}),
    name: name ?? '',
  };
}

/** A store named in an entry's sourceRef that is not the reference's own cannot be expressed. */
function sourceProblem(source: unknown, storeRef: StoreRef): string | undefined {
  const ref = fields(source);
  if (!ref) return undefined;
  if (ref.generatorRef) return 'reads from a generator, which secretlink does not have';
  const store = fields(ref.storeRef);
  if (store) {
    const kind = store.kind === 'ClusterSecretStore' ? 'ClusterSecretStore' : 'SecretStore';
    if (text(store.name) !== storeRef.name || kind !== (storeRef.kind ?? 'SecretStore')) {
      return `reads from ${kind} ${text(store.name)}, and a SecretReference reads from one store: make a second SecretReference for it`;
    }
  }
  return undefined;
}

/**
 * Options on a remote reference that change the value ESO writes: the decoding to carry over, or `false` when
 * the entry must be left out.
 */
function remoteOptions(ref: Fields, field: string, findings: FindingList): { decoding?: Decoding } | false {
  const decoding = convertDecoding(text(ref.decodingStrategy), `${field}.decodingStrategy`, findings);
  if (decoding === false) return false;
  if (text(ref.metadataPolicy) === 'Fetch') {
    findings.action(
      `${field}.metadataPolicy`,
      'is Fetch (the secret’s tags/labels, not its value); secretlink reads values only: entry left out',
    );
    return false;
  }
  const conversion = text(ref.conversionStrategy);
  if (conversion && conversion !== 'Default') {
    findings.changed(
      `${field}.conversionStrategy`,
      `is ${conversion}; secretlink keeps keys as the store has them`,
    );
  }
  return decoding ? { decoding } : {};
}

function convertData(value: unknown, storeRef: StoreRef, findings: FindingList): DataEntry[] {
  const byKey = new Map<string, DataEntry>();
  list(value).forEach((raw, index) => {
    const entry = fields(raw) ?? {};
    const field = `spec.data[${index}]`;
    const problem = sourceProblem(entry.sourceRef, storeRef);
    if (problem) {
      findings.action(`${field}.sourceRef`, `${problem}: entry left out`);
      return;
    }
    const ref = fields(entry.remoteRef) ?? {};
    const options = remoteOptions(ref, `${field}.remoteRef`, findings);
    if (!options) return;
    const key = text(entry.secretKey) ?? '';
    const property = text(ref.property);
    const version = text(ref.version);
    if (byKey.has(key)) {
      findings.changed(
        `${field}.secretKey`,
        `repeats key ${key}; secretlink keys are unique, so the last entry is kept`,
      );
    }
    byKey.set(key, {
      key,
      remote: {
        name: text(ref.key) ?? '',
        ...(property ? { property } : {}),
        ...(version ? { version } : {}),
      },
      ...options,
    });
  });
  const data = [...byKey.values()];
  if (data.length > maxData) {
    findings.action(
      'spec.data',
      `has ${data.length} entries; a SecretReference holds at most ${maxData}: split it (the API server refuses it)`,
    );
  }
  return data;
}

function convertDataFrom(value: unknown, storeRef: StoreRef, findings: FindingList): DataFromEntry[] {
  const out: DataFromEntry[] = [];
  list(value).forEach((raw, index) => {
    const entry = fields(raw) ?? {};
    const field = `spec.dataFrom[${index}]`;
    const problem = sourceProblem(entry.sourceRef, storeRef);
    if (problem) {
      findings.action(`${field}.sourceRef`, `${problem}: entry left out`);
      return;
    }
    const rewrite = convertRewrite(entry.rewrite, `${field}.rewrite`, findings);
    if (!rewrite) return;
    const findSpec = fields(entry.find);
    if (findSpec) {
      // The decoding applies to every value the find reads, as ESO's does.
      const decoding = convertDecoding(
        text(findSpec.decodingStrategy),
        `${field}.find.decodingStrategy`,
        findings,
      );
      if (decoding === false) return;
      const find = convertFind(findSpec, `${field}.find`, storeRef, findings);
      if (find)
        out.push({ find, ...(decoding ? { decoding } : {}), ...(rewrite.length > 0 ? { rewrite } : {}) });
      return;
    }
    const extract = fields(entry.extract);
    if (!extract) {
      findings.action(field, 'has neither extract nor find: entry left out');
      return;
    }
    const options = remoteOptions(extract, `${field}.extract`, findings);
    if (!options) return;
    if (text(extract.property)) {
      findings.action(
        `${field}.extract.property`,
        'secretlink spreads only a whole JSON secret: entry left out; map the nested keys one by one in data with remote.property instead',
      );
      return;
    }
    const version = text(extract.version);
    out.push({
      remote: { name: text(extract.key) ?? '', ...(version ? { version } : {}) },
      ...options,
      ...(rewrite.length > 0 ? { rewrite } : {}),
    });
  });
  if (out.length > maxDataFrom) {
    findings.action(
      'spec.dataFrom',
      `has ${out.length} entries; a SecretReference holds at most ${maxDataFrom} (the API server refuses it)`,
    );
  }
  return out;
}

function convertTarget(value: unknown, findings: FindingList, hasData: boolean): Target | undefined {
  const target = fields(value) ?? {};
  const out: Target = {};
  const name = text(target.name);
  if (name) out.name = name;
  const creation = text(target.creationPolicy);
  if (creation && creation !== 'Owner') {
    findings.changed(
      'spec.target.creationPolicy',
      `is ${creation}; secretlink always creates its own Secret, refuses to touch one it did not create, and deletes it when the last consuming Job ends`,
    );
  }
  const deletion = text(target.deletionPolicy);
  if (deletion) {
    findings.changed(
      'spec.target.deletionPolicy',
      `is ${deletion} (what ESO does with the Secret when the remote secret is deleted); secretlink has no such policy: ` +
        'a missing remote secret is reported in status (RemoteNotFound), and the Secret exists only while consuming Jobs run',
    );
  }
  if (target.immutable === true) {
    findings.changed(
      'spec.target.immutable',
      'secretlink writes mutable Secrets (it refreshes and deletes them); not carried over',
    );
  }
  const template = fields(target.template);
  if (template) convertTemplate(template, out, findings, hasData);
  return Object.keys(out).length > 0 ? out : undefined;
}

function convertTemplate(template: Fields, out: Target, findings: FindingList, hasData: boolean): void {
  const type = text(template.type);
  if (type) out.type = type;
  const metadata = fields(template.metadata) ?? {};
  for (const which of ['labels', 'annotations'] as const) {
    const map = stringMap(metadata[which]);
    if (!map) continue;
    const kept: Record<string, string> = {};
    for (const [key, entry] of Object.entries(map)) {
      const field = `spec.target.template.metadata.${which}.${key}`;
      if (key.startsWith(reservedPrefix))
        findings.action(field, `keys under ${reservedPrefix} are the operator’s: not carried over`);
      else if (entry.includes('{{'))
        findings.action(
          field,
          'is a template; secretlink never renders labels or annotations: not carried over',
        );
      else kept[key] = entry;
    }
    if (Object.keys(kept).length > 0) out[which] = kept;
  }
  const rendered = convertTemplateData(stringMap(template.data) ?? {}, findings, hasData);
  list(template.templateFrom).forEach((_, index) => {
    findings.action(
      `spec.target.template.templateFrom[${index}]`,
      'templates from a ConfigMap, Secret or literal are not carried over: copy each template into target.template.data (Liquid syntax)',
    );
  });
  const merge = text(template.mergePolicy) === 'Merge';
  if (rendered) {
    out.template = { data: rendered, ...(merge ? { mergePolicy: 'Merge' as const } : {}) };
  } else if (merge) {
    findings.info(
      'spec.target.template.mergePolicy',
      'is Merge; no template was carried over, so every fetched key is written, as with Merge',
    );
  }
  if (text(template.engineVersion) === 'v1') {
    findings.info(
      'spec.target.template.engineVersion',
      'is v1 (deprecated in ESO); translation assumes v2 syntax',
    );
  }
}

/**
 * Each ESO template translated to Liquid, or listed for the user to translate. Undefined when none could be
 * carried, so the Secret keeps holding the fetched keys rather than nothing.
 */
function convertTemplateData(
  data: Record<string, string>,
  findings: FindingList,
  hasData: boolean,
): Record<string, string> | undefined {
  const carried: Record<string, string> = {};
  const left: [string, string][] = [];
  for (const [key, source] of Object.entries(data)) {
    const field = `spec.target.template.data.${key}`;
    const translation = translateGoTemplate(source);
    const problem = translation.translated ? templateProblem(key, translation.template) : undefined;
    if (!translation.translated || problem) {
      left.push([
        key,
        translation.translated
          ? `it does not parse as Liquid: ${problem}`
          : `it needs manual translation (${translation.unsupported.join(', ')})`,
      ]);
      continue;
    }
    carried[key] = translation.template;
    if (translation.changed.length > 0) {
      findings.changed(
        field,
        `translated to ${JSON.stringify(translation.template)}; check: ${translation.changed.join('; ')}`,
      );
    } else {
      findings.info(field, `translated to ${JSON.stringify(translation.template)}`);
    }
  }
  const anyCarried = Object.keys(carried).length > 0;
  for (const [key, why] of left) {
    const effect = anyCarried
      ? `the Secret lacks ${key} until you write its template in target.template.data (Liquid syntax, see docs/api.md)`
      : hasData
        ? `no template was carried over, so the Secret holds the fetched keys instead of ${key}`
        : `the Secret lacks ${key}`;
    findings.action(
      `spec.target.template.data.${key}`,
      `key ${key} is rendered by a template that is not carried over: ${why}; ${effect}`,
    );
  }
  return anyCarried ? carried : undefined;
}

/**
 * ESO re-reads the store every refreshInterval for as long as the ExternalSecret exists (0: once). secretlink
 * writes the Secret only while a consuming Job runs and re-checks it every refreshInterval (10s..24h) then.
 */
function convertRefreshInterval(value: unknown, findings: FindingList): string | undefined {
  const given = text(value);
  if (given === undefined) return undefined;
  let milliseconds: number;
  try {
    milliseconds = parseDuration(given);
  } catch {
    findings.action(
      'spec.refreshInterval',
      `"${given}" is not a duration; secretlink’s default (5m) applies`,
    );
    return undefined;
  }
  const meaning = 'secretlink re-checks the written Secret this often only while consuming Jobs run';
  if (milliseconds === 0) {
    findings.changed('spec.refreshInterval', `is 0 (fetch once); ${meaning}, and its default (5m) applies`);
    return undefined;
  }
  if (milliseconds < 10_000) {
    findings.changed(
      'spec.refreshInterval',
      `is ${given}, below secretlink’s minimum: 10s is used; ${meaning}`,
    );
    return '10s';
  }
  if (milliseconds > 86_400_000) {
    findings.changed(
      'spec.refreshInterval',
      `is ${given}, above secretlink’s maximum: 24h is used; ${meaning}`,
    );
    return '24h';
  }
  findings.info('spec.refreshInterval', `carried over; ${meaning}`);
  return crdDuration.test(given) ? given : `${Math.round(milliseconds / 1000)}s`;
}
