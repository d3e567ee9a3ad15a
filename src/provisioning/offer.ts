import type { Models } from '../../models/index.js';

/** A template label users can choose, and the nodes that have it. */
export interface OfferedTemplate {
  osRelease: string;
  nodes: { id: number; name: string }[];
}

/** What the create form offers: every template label an admin curated, with its nodes, by label. */
export async function offeredTemplates(models: Models): Promise<OfferedTemplate[]> {
  const rows = await models.ContainerTemplate.findAll({ include: [{ model: models.Node, as: 'node', attributes: ['id', 'name'] }], order: [['osRelease', 'ASC']] });
  const byLabel = new Map<string, OfferedTemplate>();
  for (const row of rows) {
    const node = (row as unknown as { node?: { id: number; name: string } }).node;
    if (!node) continue;
    const entry = byLabel.get(row.osRelease) ?? { osRelease: row.osRelease, nodes: [] };
    entry.nodes.push({ id: node.id, name: node.name });
    byLabel.set(row.osRelease, entry);
  }
  for (const t of byLabel.values()) t.nodes.sort((a, b) => a.name.localeCompare(b.name));
  return [...byLabel.values()];
}
