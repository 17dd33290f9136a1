// Kubernetes label selector semantics (matchLabels and matchExpressions), for consumers and namespace selectors.
import type { V1LabelSelector, V1LabelSelectorRequirement } from '@kubernetes/client-node';

export type SelectorVerdict = { matches: true } | { matches: false; unmet: string };

/** An empty selector matches everything, as in Kubernetes. */
export function judgeSelector(selector: V1LabelSelector, labels: Record<string, string>): SelectorVerdict {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return { matches: false, unmet: `label ${key} is not "${value}"` };
  }
  for (const requirement of selector.matchExpressions ?? []) {
    if (!requirementHolds(labels, requirement)) {
      return { matches: false, unmet: `labels do not satisfy ${describeRequirement(requirement)}` };
    }
  }
  return { matches: true };
}

export function selectorMatches(selector: V1LabelSelector, labels: Record<string, string>): boolean {
  return judgeSelector(selector, labels).matches;
}

function requirementHolds(labels: Record<string, string>, requirement: V1LabelSelectorRequirement): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return present && values.includes(labels[requirement.key]!);
    case 'NotIn':
      return !present || !values.includes(labels[requirement.key]!);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    default:
      // An operator the API server would have rejected; never grant access on what cannot be evaluated.
      return false;
  }
}

function describeRequirement(requirement: V1LabelSelectorRequirement): string {
  const values = requirement.values?.length ? ` (${requirement.values.join(', ')})` : '';
  return `${requirement.key} ${requirement.operator}${values}`;
}
