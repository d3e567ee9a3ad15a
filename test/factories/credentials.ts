import crypto from 'node:crypto';
import type { Credential } from '../../models/index.js';
import type { InventoryRecord } from '../../src/inventory/kinds.js';
import { Vault } from '../../src/lib/vault.js';
import { SECRET_PURPOSE, SSH_KEY_PURPOSE } from '../../src/services/credentials.js';
import { testContext } from '../support/context.js';
import { createContainer, createVm } from './inventory.js';

export type KindKey = 'container' | 'vm';

/** A credential of a container or VM, sealed with the test config's vault; a unique password unless given. */
export async function createCredential(kind: KindKey, recordId: number, overrides: { label?: string; username?: string; password?: string; sshKey?: string | null } = {}): Promise<{ credential: Credential; password: string }> {
  const vault = Vault.fromConfig(testContext().config);
  const password = overrides.password ?? `pw-${crypto.randomBytes(12).toString('base64url')}`;
  const credential = await testContext().db.models.Credential.create({
    containerId: kind === 'container' ? recordId : null,
    virtualMachineId: kind === 'vm' ? recordId : null,
    label: overrides.label ?? 'root',
    username: overrides.username ?? 'root',
    secret: vault.seal(password, SECRET_PURPOSE),
    sshKey: overrides.sshKey ? vault.seal(overrides.sshKey, SSH_KEY_PURPOSE) : null,
    keyId: vault.keyId,
    createdBy: null,
  });
  return { credential, password };
}

/** A container or VM owned by `username` (null: nobody) with one credential. */
export async function createRecordWithCredential(kind: KindKey, username: string | null) {
  const record: InventoryRecord = kind === 'container' ? await createContainer({ username }) : await createVm({ username });
  const { credential, password } = await createCredential(kind, record.id);
  return { record, credential, password, base: kind === 'container' ? '/containers' : '/vms' };
}
