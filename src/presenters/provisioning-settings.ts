import type { ContainerTemplate, IpPool, Node, User } from '../../models/index.js';
import { poolUsage } from '../provisioning/addresses.js';
import type { QuotaInput, Resources } from '../provisioning/quota.js';
import { poolNotes } from '../provisioning/settings.js';

/** A template as the settings pages and JSON show it. */
export interface TemplateView {
  id: number;
  nodeId: number;
  nodeName: string;
  volid: string;
  osRelease: string;
}

export function presentTemplate(row: ContainerTemplate, nodeName: string): TemplateView {
  return { id: row.id, nodeId: row.nodeId, nodeName, volid: row.volid, osRelease: row.osRelease };
}

/** The templates page's list: every node (those without templates too), with its templates by label. */
export function templatesByNode(nodes: Node[], rows: ContainerTemplate[]): Array<{ nodeId: number; nodeName: string; templates: TemplateView[] }> {
  return nodes.map((node) => ({
    nodeId: node.id,
    nodeName: node.name,
    templates: rows
      .filter((r) => r.nodeId === node.id)
      .map((r) => presentTemplate(r, node.name))
      .sort((a, b) => a.osRelease.localeCompare(b.osRelease) || a.volid.localeCompare(b.volid)),
  }));
}

/** A pool with how much of it is used: `held` is every address container records hold. */
export interface PoolView {
  id: number;
  nodeId: number;
  nodeName: string;
  bridge: string;
  cidr: string;
  gateway: string;
  rangeStart: string;
  rangeEnd: string;
  /** Addresses the range hands out (the gateway excluded). */
  size: number;
  used: number;
  free: number;
  /** Remarks such as "the gateway lies inside the range and is skipped". */
  notes: string[];
}

export function presentPool(pool: IpPool, nodeName: string, held: Iterable<string>): PoolView {
  return {
    id: pool.id,
    nodeId: pool.nodeId,
    nodeName,
    bridge: pool.bridge,
    cidr: pool.cidr,
    gateway: pool.gateway,
    rangeStart: pool.rangeStart,
    rangeEnd: pool.rangeEnd,
    ...poolUsage(pool, held),
    notes: poolNotes(pool),
  };
}

/** A pool form's values: what was stored, or what was typed. */
export interface PoolFormValues {
  nodeId: string;
  bridge: string;
  cidr: string;
  gateway: string;
  rangeStart: string;
  rangeEnd: string;
}

const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

export function poolFormValues(pool: IpPool | null, defaultBridge: string): PoolFormValues {
  return {
    nodeId: pool ? String(pool.nodeId) : '',
    bridge: pool?.bridge ?? defaultBridge,
    cidr: pool?.cidr ?? '',
    gateway: pool?.gateway ?? '',
    rangeStart: pool?.rangeStart ?? '',
    rangeEnd: pool?.rangeEnd ?? '',
  };
}

export function submittedPoolValues(body: Record<string, unknown>): PoolFormValues {
  return { nodeId: text(body.nodeId), bridge: text(body.bridge), cidr: text(body.cidr), gateway: text(body.gateway), rangeStart: text(body.rangeStart), rangeEnd: text(body.rangeEnd) };
}

export function submittedTemplateValues(body: Record<string, unknown>): { nodeId: string; volid: string; osRelease: string } {
  return { nodeId: text(body.nodeId), volid: text(body.volid), osRelease: text(body.osRelease) };
}

/** One user's quota: the override (null: default), what applies, and what they use. */
export interface QuotaRowView {
  userId: number;
  username: string;
  override: QuotaInput;
  effective: Resources;
  usage: Resources;
}

export function presentQuotaRow(user: Pick<User, 'id' | 'username'>, override: QuotaInput, defaults: Resources, usage: Resources): QuotaRowView {
  const effective = { ...defaults };
  for (const k of Object.keys(effective) as (keyof Resources)[]) effective[k] = override[k] ?? defaults[k];
  return { userId: user.id, username: user.username, override, effective, usage };
}

/** A quota form's values as typed (blank: default). */
export function submittedQuotaValues(body: Record<string, unknown>): Record<'username' | keyof Resources, string> {
  return { username: text(body.username), containers: text(body.containers), cores: text(body.cores), memoryMb: text(body.memoryMb), diskGb: text(body.diskGb) };
}
