import type { Credential, Models } from '../../models/index.js';
import type { InventoryKind } from '../inventory/kinds.js';

/** A credential as pages and the API list it: never the secret or the key, only that they exist. */
export function presentCredential(c: Credential) {
  return { id: c.id, label: c.label, username: c.username, hasSshKey: c.sshKey !== null, createdBy: c.createdBy, createdAt: c.createdAt, updatedAt: c.updatedAt };
}

export type PresentedCredential = ReturnType<typeof presentCredential>;

/** The credentials of one container or VM, by label (the sealed columns are not even read). */
export async function listCredentials(models: Models, kind: InventoryKind, recordId: number): Promise<PresentedCredential[]> {
  const rows = await models.Credential.findAll({
    where: { [kind.credentialKey]: recordId },
    attributes: { exclude: ['secret'] },
    order: [['label', 'ASC'], ['id', 'ASC']],
  });
  return rows.map(presentCredential);
}
