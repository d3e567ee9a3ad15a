import type { Container, ContainerRequest, Node } from '../../models/index.js';
import type { ProvisionParams } from '../provisioning/params.js';
import type { Overage } from '../provisioning/quota.js';

/** What the requester asked for, read from the reserved container record (gone once rejected). */
export interface AskedResources {
  osRelease: string | null;
  node: string | null;
  cores: number | null;
  memoryMb: number | null;
  diskGb: number | null;
  httpPort: number | null;
  expiresAt: string | null;
  purpose: string | null;
  /** The pool address reserved for it, or null for DHCP. */
  ipv4Address: string | null;
  /** The template's volume on the node (from the request's parameters). */
  template: string | null;
  hasSshKey: boolean;
}

/** A container request as the approval queue and its JSON show it. */
export interface ContainerRequestView {
  id: number;
  hostname: string;
  requester: string;
  status: string;
  createdAt: string;
  /** When it was approved or rejected (the row's last change), null while pending. */
  decidedAt: string | null;
  decidedBy: string | null;
  reason: string | null;
  asked: AskedResources | null;
  overage: Overage[];
  /** The limits it went over, one sentence (empty when it was within quota). */
  overageText: string;
  containerId: number | null;
  jobId: number | null;
  statusUrl: string | null;
}

const minute = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : null);

/**
 * The stored JSON, or null when it does not parse. Berth writes these columns itself, but one bad
 * row must not take the whole queue page down with it.
 */
function parsed<T>(json: string | null): T | null {
  if (!json) return null;
  try {
    return JSON.parse(json) as T;
  } catch {
    return null;
  }
}

/** `row` with its reserved container (and that container's node) included, when still there. */
export type ContainerRequestWithContainer = ContainerRequest & { container?: (Container & { node?: Node | null }) | null };

export function presentContainerRequest(row: ContainerRequestWithContainer): ContainerRequestView {
  const params = parsed<Partial<ProvisionParams>>(row.params);
  const overage = parsed<Overage[]>(row.overage);
  const overages = Array.isArray(overage) ? overage : [];
  const container = row.container ?? null;
  return {
    id: row.id,
    hostname: row.hostname,
    requester: row.username,
    status: row.status,
    createdAt: minute(row.createdAt) ?? '',
    decidedAt: row.decidedBy ? minute(row.updatedAt) : null,
    decidedBy: row.decidedBy,
    reason: row.reason,
    asked: container
      ? {
          osRelease: container.osRelease,
          node: container.node?.name ?? null,
          cores: container.cores,
          memoryMb: container.memoryMb,
          diskGb: container.diskGb,
          httpPort: container.httpPort,
          expiresAt: container.expiresAt,
          purpose: container.purpose,
          ipv4Address: container.ipv4Address,
          template: params?.volid ?? null,
          hasSshKey: Boolean(params?.sshPublicKeys),
        }
      : null,
    overage: overages,
    overageText: overages.map((o) => o.text).join('; '),
    containerId: row.containerId,
    jobId: row.jobId,
    statusUrl: row.jobId ? `/status/${row.jobId}` : null,
  };
}
