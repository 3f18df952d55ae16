import type { LabelSelector } from '../crds/index.ts';

/** Whether labels satisfy a Kubernetes label selector; an empty selector matches everything. */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
      case 'In':
        return has && (req.values ?? []).includes(value ?? '');
      case 'NotIn':
        return !has || !(req.values ?? []).includes(value ?? '');
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
    return false;
  });
}
