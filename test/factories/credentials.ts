import crypto from 'node:crypto';
import type { CreationAttributes } from 'sequelize';
import type { Credential } from '../../models/index.js';
import type { InventoryRecord } from '../../src/inventory/kinds.js';
import { Vault } from '../../src/lib/vault.js';
import { SECRET_PURPOSE, SSH_KEY_PURPOSE } from '../../src/services/credentials.js';
import { testContext } from '../support/context.js';
import { withoutUndefined } from './overrides.js';
import { createContainer, createVm } from './inventory.js';

export type KindKey = 'container' | 'vm';

/**
 * Credential attributes a test may set. `password` and `sshKey` are plain, sealed here (the columns
 * hold only sealed values); `keyId` follows from the vault.
 */
export type CredentialOverrides = Partial<Omit<CreationAttributes<Credential>, 'secret' | 'sshKey' | 'keyId'>> & {
  password?: string;
  sshKey?: string | null;
};

/**
 * A credential sealed with the test config's vault, of the container or VM given by `containerId` /
 * `virtualMachineId`, else of a new container; a unique password unless given.
 */
export async function createCredential(overrides: CredentialOverrides = {}): Promise<{ credential: Credential; password: string }> {
  const { password: chosen, sshKey, ...attributes } = withoutUndefined(overrides);
  const vault = Vault.fromConfig(testContext().config);
  const password = chosen ?? `pw-${crypto.randomBytes(12).toString('base64url')}`;
  const hasRecord = attributes.containerId != null || attributes.virtualMachineId != null;
  const credential = await testContext().db.models.Credential.create({
    label: 'root',
    username: 'root',
    createdBy: null,
    ...attributes,
    containerId: hasRecord ? (attributes.containerId ?? null) : (await createContainer()).id,
    virtualMachineId: attributes.virtualMachineId ?? null,
    secret: vault.seal(password, SECRET_PURPOSE),
    sshKey: sshKey ? vault.seal(sshKey, SSH_KEY_PURPOSE) : null,
    keyId: vault.keyId,
  });
  return { credential, password };
}

/** A container or VM owned by `username` (null: nobody) with one credential. */
export async function createRecordWithCredential(kind: KindKey, username: string | null) {
  const record: InventoryRecord = kind === 'container' ? await createContainer({ username }) : await createVm({ username });
  const { credential, password } = await createCredential(kind === 'container' ? { containerId: record.id } : { virtualMachineId: record.id });
  return { record, credential, password, base: kind === 'container' ? '/containers' : '/vms' };
}
