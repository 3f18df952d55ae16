import { formatPolicyError } from '../crds/index.ts';
import { KubeClient, loadKubeConfig } from '../kube/index.ts';
import { Operator, type OperatorOptions } from '../operator/index.ts';
import { ClusterAdmission } from './cluster-admission.ts';
import type { FeedFactory } from './policy-feed.ts';

export interface ClusterFeedOptions {
  /** A kubeconfig file, or undefined for the in-cluster service account. */
  kubeconfig: string | undefined;
  identity: string;
  lease: OperatorOptions['lease'];
  informer?: OperatorOptions['informer'];
  usageEveryMs?: number;
}

/** Cluster mode's feed: the operator's informers compile SKUs, Tenants and Quotas; the elected leader writes status. */
export function clusterFeed(o: ClusterFeedOptions): FeedFactory {
  return ({ compiler, usage, clock, io, onReconcileError, reservations }) => {
    const api = new KubeClient(loadKubeConfig(o.kubeconfig));
    const log = (m: string): void => io.err(`tai: ${m}`);
    const admission = new ClusterAdmission({ compiler, clock, holds: (key) => operator.policy.holds(key), shared: reservations });
    const onCoreChange: OperatorOptions['onCoreChange'] = (resource, change) => admission.coreChanged(resource, change);
    const operator = new Operator({ api, server: api.server, compiler, usage, clock, log, identity: o.identity, lease: o.lease, informer: o.informer, usageEveryMs: o.usageEveryMs, onReconcileError, onCoreChange });
    return {
      description: `cluster, policy from ${api.server} (${o.kubeconfig ? `kubeconfig ${o.kubeconfig}` : 'in-cluster service account'}), replica ${o.identity}`,
      async start() {
        io.out(`tai: listing SKUs, Tenants and Quotas from ${api.server}`);
        const { snapshot } = await operator.start();
        admission.start();
        const { skus, tenants, quotas } = operator.policy.informers;
        const count = (i: typeof skus): number => [...i.list()].length;
        io.out(`tai: policy generation ${snapshot.generation}: ${count(skus)} SKUs, ${count(tenants)} tenants, ${count(quotas)} quotas`);
        for (const key of [...tenants.list(), ...skus.list(), ...quotas.list()].map((x) => `${x.kind}/${x.metadata.name}`)) {
          for (const e of operator.policy.invalid(key) ?? []) io.err(`tai: ${formatPolicyError(e)}`);
        }
      },
      stop: async () => {
        admission.stop();
        await operator.stop();
      },
      readiness: () => operator.readiness(),
      tenantResource: (name) => operator.policy.tenantResource(name),
      onThreshold: (e) => operator.onThreshold(e),
      admission: admission.controller,
      kube: api,
    };
  };
}
