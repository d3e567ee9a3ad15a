import type { Node } from '../../models/index.js';
import { UpstreamError } from '../lib/errors.js';
import type { CommandContext } from '../services/context.js';
import { clientForNode } from '../services/nodes.js';
import { proxmoxWords } from './task-support.js';

/**
 * "Automatic" node choice: among the nodes that offer the template, the online one with the most
 * free memory, as Proxmox reports it now. Each candidate is asked in turn until one answers (a
 * cluster's /cluster/resources covers every node); a node no answer lists is left out.
 */
export async function nodeWithMostFreeMemory(cmd: Pick<CommandContext, 'vault' | 'config'>, candidates: Node[]): Promise<Node> {
  const tried: string[] = [];
  const free = new Map<string, number>();
  for (const node of candidates) {
    if (candidates.every((c) => free.has(c.name))) break;
    let client;
    try {
      client = clientForNode(node, cmd.vault, cmd.config);
      for (const r of await client.cluster.nodeResources()) if (r.status === 'online') free.set(r.node, r.free);
    } catch (err) {
      tried.push(`${node.name}: ${proxmoxWords(err)}`);
    } finally {
      await client?.close();
    }
  }
  const ranked = candidates.filter((c) => free.has(c.name)).sort((a, b) => free.get(b.name)! - free.get(a.name)!);
  if (!ranked.length) throw new UpstreamError(`No node that offers this template answered; choose a node or try again. ${tried.join('; ')}`.trim());
  return ranked[0];
}
