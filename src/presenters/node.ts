import type { Node } from '../../models/index.js';
import { isTicked } from '../lib/validators.js';

/** A node as pages and JSON show it: never the token secret, only whether one is stored. */
export interface NodeView {
  id: number;
  name: string;
  apiUrl: string;
  tlsVerify: boolean;
  tlsFingerprint: string | null;
  /** "verify", "pinned fingerprint" or "not verified". */
  tlsMode: string;
  apiTokenId: string | null;
  hasSecret: boolean;
  containers: number;
  vms: number;
}

/** Form values for a node: the secret field always starts empty. */
export interface NodeFormValues {
  name: string;
  apiUrl: string;
  tlsVerify: boolean;
  tlsFingerprint: string;
  apiTokenId: string;
  apiTokenSecret: string;
}

export function tlsMode(node: Pick<Node, 'tlsVerify' | 'tlsFingerprint'>): string {
  if (node.tlsFingerprint) return 'pinned fingerprint';
  return node.tlsVerify ? 'verify' : 'not verified';
}

export function presentNode(node: Node, counts: { containers: number; vms: number } = { containers: 0, vms: 0 }): NodeView {
  return {
    id: node.id,
    name: node.name,
    apiUrl: node.apiUrl,
    tlsVerify: node.tlsVerify,
    tlsFingerprint: node.tlsFingerprint,
    tlsMode: tlsMode(node),
    apiTokenId: node.apiTokenId,
    hasSecret: Boolean(node.apiTokenSecret),
    containers: counts.containers,
    vms: counts.vms,
  };
}

export function nodeFormValues(node: Node | null): NodeFormValues {
  return {
    name: node?.name ?? '',
    apiUrl: node?.apiUrl ?? '',
    tlsVerify: node?.tlsVerify ?? true,
    tlsFingerprint: node?.tlsFingerprint ?? '',
    apiTokenId: node?.apiTokenId ?? '',
    apiTokenSecret: '',
  };
}

/** What a re-rendered form shows of the submitted body: strings only, and never the secret typed. */
export function submittedNodeValues(body: unknown): NodeFormValues {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const s = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
  return {
    name: s('name'),
    apiUrl: s('apiUrl'),
    tlsVerify: isTicked(b.tlsVerify),
    tlsFingerprint: s('tlsFingerprint'),
    apiTokenId: s('apiTokenId'),
    apiTokenSecret: '',
  };
}
