import { Op } from 'sequelize';
import type { AuditEvent, Models } from '../../models/index.js';
import { MASK, type Changes } from '../audit/index.js';

/**
 * Audit events as people read them: who acted (a user, one of Berth's own processes, or an anonymous
 * visitor), and each changed field under the name the forms use, with values as people know them
 * (the node's name, not its id; yes/no; dates). The raw event stays in the JSON beside it.
 */

/** Who caused an event. */
export interface AuditActorView {
  kind: 'user' | 'system' | 'anonymous';
  /** The username, the system's name ("scheduler", "job runner", "expiry scan", "command line", …), or "anonymous visitor". */
  name: string;
  /** The job whose task wrote the event (request id `job-<id>`), for a link to its status page. */
  jobId: number | null;
}

/**
 * The names of Berth's own processes, by the request id their events carry instead of a web
 * request's. `job-<id>` (a task in the job runner) is matched apart.
 */
const SYSTEM_BY_REQUEST_ID: Record<string, string> = {
  scheduler: 'scheduler',
  'job-runner': 'job runner',
  'expiry-scan': 'expiry scan',
  'expiry-action': 'expiry scan',
  cli: 'command line',
};

/**
 * The actions only Berth itself records without a user and outside a job (older events carry no
 * request id saying which process): the schedulers enqueue jobs, the expiry scan queues reminders,
 * `bin/rotate-key` rotates the vault.
 */
const SYSTEM_BY_ACTION: Record<string, string> = {
  'job.enqueue': 'scheduler',
  'expiry.remind': 'expiry scan',
  'vault.rotate': 'command line',
};

/** Proxmox account rechecks: Berth's own doing, also when a visitor's request triggered them. */
const PROXMOX_RECHECK = /^user\.proxmox-/;

/**
 * Who caused `e`. A user's events name them. An event without a user is an anonymous visitor's when
 * it came from a web request (every web request has a client address, `ip`; a request id alone
 * proves nothing, since a client may send its own `X-Request-Id`), and Berth's own otherwise.
 */
export function auditActor(e: Pick<AuditEvent, 'actor' | 'ip' | 'requestId' | 'action'>): AuditActorView {
  const job = e.ip ? null : /^job-(\d+)$/.exec(e.requestId ?? '');
  const jobId = job ? Number(job[1]) : null;
  if (e.actor) return { kind: 'user', name: e.actor, jobId };
  if (PROXMOX_RECHECK.test(e.action)) return { kind: 'system', name: 'Proxmox account check', jobId };
  if (e.ip) return { kind: 'anonymous', name: 'anonymous visitor', jobId: null };
  if (jobId !== null) return { kind: 'system', name: 'job runner', jobId };
  const name = SYSTEM_BY_REQUEST_ID[e.requestId ?? ''] ?? SYSTEM_BY_ACTION[e.action] ?? 'Berth';
  return { kind: 'system', name, jobId: null };
}

/** Field labels, as the forms say them; by action prefix first (a credential's `username` is its login). */
const LABELS_BY_TYPE: Record<string, Record<string, string>> = {
  credential: { username: 'Login name', label: 'Label', password: 'Password', sshKey: 'SSH key' },
  container: { username: 'Owner', containerId: 'VMID', hostname: 'Hostname' },
  vm: { username: 'Owner', name: 'Name' },
  user: { username: 'Username', userId: 'User' },
  'account-request': { username: 'Username', userId: 'Account' },
  token: { userId: 'User', name: 'Name', scope: 'Scope' },
};

const LABELS: Record<string, string> = {
  nodeId: 'Node',
  userId: 'User',
  domainId: 'Domain',
  vmid: 'VMID',
  macAddress: 'MAC address',
  ipv4Address: 'IPv4 address',
  osRelease: 'OS release',
  osName: 'Operating system',
  aiContainer: 'AI container',
  rdpPort: 'RDP port',
  expiresAt: 'Expires',
  apiUrl: 'API URL',
  apiTokenId: 'API token ID',
  apiTokenSecret: 'API token secret',
  tlsVerify: 'Verify TLS',
  tlsFingerprint: 'TLS fingerprint',
  sshKey: 'SSH key',
  cidr: 'CIDR',
  volid: 'Template volume',
  isAdmin: 'Administrator',
  proxmoxAdmin: 'Proxmox administrator',
  cancelRequestedAt: 'Cancel requested',
  revokedAt: 'Revoked',
  internalPort: 'Internal port',
  externalPort: 'External port',
  externalHostname: 'External host name',
  tls: 'TLS',
  maxContainers: 'Container quota',
  maxCores: 'Core quota',
  maxMemoryMb: 'Memory quota (MB)',
  maxDiskGb: 'Disk quota (GB)',
};

/** `someFieldName` → "Some field name": the fallback for a field no table names. */
function humanise(field: string): string {
  const spaced = field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** The label of `field` in an event of `action` (`<type>.<verb>`). */
export function fieldLabel(action: string, field: string): string {
  const type = action.startsWith('credential.') ? 'credential' : action.split('.')[0];
  return LABELS_BY_TYPE[type]?.[field] ?? LABELS[field] ?? humanise(field);
}

/** The names behind ids in changes, loaded once per page (`loadAuditNames`). */
export interface AuditNames {
  node: Map<number, string>;
  user: Map<number, string>;
  domain: Map<number, string>;
}

const NO_NAMES: AuditNames = { node: new Map(), user: new Map(), domain: new Map() };

/** Which table an id field points at (only those whose names are worth a query). */
const REFERENCES: Record<string, keyof AuditNames> = { nodeId: 'node', userId: 'user', domainId: 'domain' };

const MAX_TEXT = 200;
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** One value as people read it; null when there is none (the view shows "—" or the field's word for none). */
function valueText(action: string, field: string, value: unknown, names: AuditNames): string | null {
  if (value === null || value === undefined || value === '') {
    return field === 'username' && fieldLabel(action, field) === 'Owner' ? 'no owner' : null;
  }
  if (value === MASK) return 'set (hidden)';
  const ref = REFERENCES[field];
  if (ref && (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value)))) {
    const id = Number(value);
    return names[ref].get(id) ?? `#${id}`;
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return clip(value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', '));
  if (typeof value === 'string') {
    const time = ISO_TIME.exec(value);
    if (time) {
      const d = new Date(value);
      if (!Number.isNaN(d.getTime())) return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    }
    return clip(value);
  }
  if (typeof value === 'object') return clip(JSON.stringify(value));
  return String(value);
}

const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

/** One changed field as people read it. `before`/`after` are absent on a create/delete, null when empty. */
export interface AuditDetail {
  field: string;
  label: string;
  before?: string | null;
  after?: string | null;
}

function details(action: string, changes: Changes | null, names: AuditNames): AuditDetail[] {
  if (!changes) return [];
  return Object.entries(changes).map(([field, change]) => {
    const out: AuditDetail = { field, label: fieldLabel(action, field) };
    // A changed secret is masked on both sides: say that it changed, not "hidden → hidden".
    if (change?.before === MASK && change.after === MASK) return { ...out, after: 'changed (hidden)' };
    if (change && 'before' in change) out.before = valueText(action, field, change.before, names);
    if (change && 'after' in change) out.after = valueText(action, field, change.after, names);
    return out;
  });
}

function parseChanges(e: AuditEvent): Changes | null {
  try {
    const parsed: unknown = e.changes ? JSON.parse(e.changes) : null;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Changes) : null;
  } catch {
    return null;
  }
}

function present(e: AuditEvent, names: AuditNames) {
  const changes = parseChanges(e);
  const actor = auditActor(e);
  return {
    id: Number(e.id),
    createdAt: e.createdAt,
    actor: e.actor,
    action: e.action,
    objectType: e.objectType,
    objectId: e.objectId,
    objectLabel: e.objectLabel,
    changes,
    requestId: e.requestId,
    ip: e.ip,
    /** Who acted, for people: a username, "scheduler", "job runner", …, or "anonymous visitor". */
    actorLabel: actor,
    /** The changes for people: labelled fields, readable values, names instead of ids. */
    details: details(e.action, changes, names),
  };
}

/** An audit event for pages and JSON, with its changes parsed and labelled (ids of other objects shown as `#id`). */
export function presentAuditEvent(e: AuditEvent) {
  return present(e, NO_NAMES);
}

export type PresentedAuditEvent = ReturnType<typeof presentAuditEvent>;

/**
 * The names the ids in `events`' changes point at (nodes, users, domains): one query per table for
 * the whole page, whatever it holds. A deleted object keeps its `#id`.
 */
export async function loadAuditNames(models: Pick<Models, 'Node' | 'User' | 'PublicDomain'>, events: AuditEvent[]): Promise<AuditNames> {
  const wanted: Record<keyof AuditNames, Set<number>> = { node: new Set(), user: new Set(), domain: new Set() };
  for (const e of events) {
    const changes = parseChanges(e);
    if (!changes) continue;
    for (const [field, change] of Object.entries(changes)) {
      const ref = REFERENCES[field];
      if (!ref || !change) continue;
      for (const v of [change.before, change.after]) {
        if (typeof v === 'number' || (typeof v === 'string' && /^\d{1,15}$/.test(v))) wanted[ref].add(Number(v));
      }
    }
  }
  const ids = (set: Set<number>) => ({ [Op.in]: [...set] });
  const [nodes, users, domains] = await Promise.all([
    wanted.node.size ? models.Node.findAll({ attributes: ['id', 'name'], where: { id: ids(wanted.node) } }) : [],
    wanted.user.size ? models.User.findAll({ attributes: ['id', 'username'], where: { id: ids(wanted.user) } }) : [],
    wanted.domain.size ? models.PublicDomain.findAll({ attributes: ['id', 'name'], where: { id: ids(wanted.domain) } }) : [],
  ]);
  return {
    node: new Map(nodes.map((n) => [n.id, n.name])),
    user: new Map(users.map((u) => [u.id, u.username])),
    domain: new Map(domains.map((d) => [d.id, d.name])),
  };
}

/** `events` presented with the names their changes point at (see loadAuditNames). */
export async function presentAuditEvents(models: Pick<Models, 'Node' | 'User' | 'PublicDomain'>, events: AuditEvent[]): Promise<PresentedAuditEvent[]> {
  const names = await loadAuditNames(models, events);
  return events.map((e) => present(e, names));
}
