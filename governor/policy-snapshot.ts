import { OverlayMap } from './overlay-map.ts';
import type { CompiledTenant } from './types.ts';

/** The compile outcome of one resource: becomes its Ready condition (and, for Quotas, `active`). */
export interface ResourceStatus {
  ready: boolean;
  /** CamelCase: Compiled, SKUNotFound, InheritanceCycle, InvalidOverrides, UnknownMetric, TenantNotFound. */
  reason: string;
  message: string;
  /** Field path the message is about, when there is one. */
  path?: string;
  /** metadata.generation the status was computed for. */
  generation: number;
  /** Quotas only: inside the validity period at compile time. */
  active?: boolean;
  /** Quotas only: number of tenants the grant applies to. */
  tenants?: number;
}

/**
 * What decisions read: immutable, swapped whole. `tenants` holds the last good compilation of each tenant,
 * so a tenant whose new spec is broken keeps being served as before (and its status says why).
 */
export interface PolicySnapshot {
  /** Increments with every compile. */
  readonly generation: number;
  readonly tenants: OverlayMap<string, CompiledTenant>;
  /** By `Kind/name`. */
  readonly statuses: OverlayMap<string, ResourceStatus>;
  /** Tenants recompiled or removed to make this snapshot (their entitlements may have changed). */
  readonly changed: ReadonlySet<string>;
  /** When a time-boxed Quota next starts or ends; the snapshot must be refreshed then. */
  readonly expiresAt: number | undefined;
}

export const EMPTY_SNAPSHOT: PolicySnapshot = { generation: 0, tenants: OverlayMap.empty(), statuses: OverlayMap.empty(), changed: new Set(), expiresAt: undefined };
