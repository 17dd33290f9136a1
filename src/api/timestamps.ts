// Timestamps as Kubernetes writes them: RFC 3339 in UTC, to the second (metav1.Time drops fractions).

export function toKubernetesTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
