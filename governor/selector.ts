import type { LabelSelector } from '../crds/index.ts';

/** Whether labels satisfy a Kubernetes label selector; an empty selector matches everything. */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => meetsRequirement(req, labels));
}

type Requirement = NonNullable<LabelSelector['matchExpressions']>[number];

function meetsRequirement(req: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const listed = has && (req.values ?? []).includes(labels[req.key]!);
  switch (req.operator) {
    case 'In':
      return listed;
    case 'NotIn':
      return !listed;
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
  return false;
}

/** The label that places a namespace in a tenant when the Tenant names no `namespaceSelector`. */
export const TENANT_LABEL = 'tai.dev/tenant';

/** A tenant's namespace selector: its own, or `tai.dev/tenant: <name>`. */
export function tenantNamespaceSelector(tenant: { metadata: { name: string }; spec: { namespaceSelector?: LabelSelector | undefined } }): LabelSelector {
  return tenant.spec.namespaceSelector ?? { matchLabels: { [TENANT_LABEL]: tenant.metadata.name } };
}
