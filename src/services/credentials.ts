import type { Credential, Models } from '../../models/index.js';
import { changedFields } from '../audit/index.js';
import { recordName, type InventoryKind, type InventoryRecord } from '../inventory/kinds.js';
import { ConflictError, NotFoundError } from '../lib/errors.js';
import { VaultError } from '../lib/vault.js';
import { inTransaction, type CommandContext } from './context.js';

/**
 * The credential vault's commands: add, reveal, delete. The only code that opens a Credentials
 * secret (besides bin/rotate-key). Every event is recorded on the PARENT container or VM (objectType
 * kind.key, objectId the record's id) so it shows in that record's history, and it commits with
 * the change: a reveal whose audit row cannot be written reveals nothing.
 */

/** The vault purposes (bound into each envelope, so one cannot be opened as the other). */
export const SECRET_PURPOSE = 'credential-secret';
export const SSH_KEY_PURPOSE = 'credential-ssh-key';

export interface NewCredential {
  label: string;
  username: string;
  password: string;
  sshKey?: string;
}

export interface RevealedCredential {
  label: string;
  username: string;
  password: string;
  sshKey: string | null;
}

const AUDITED = ['label', 'username', 'password', 'sshKey'];
const SECRETS = ['password', 'sshKey'];

function event(kind: InventoryKind, record: InventoryRecord, action: string, changes: ReturnType<typeof changedFields> | null = null) {
  return { action, objectType: kind.key, objectId: record.id, objectLabel: recordName(kind, record), changes };
}

/** The credential `credentialId` of `record`; 404 when it does not exist or belongs to another record. */
export async function findCredential(models: Models, kind: InventoryKind, record: InventoryRecord, credentialId: number): Promise<Credential> {
  const credential = await models.Credential.findOne({ where: { id: credentialId, [kind.credentialKey]: record.id } });
  if (!credential) throw new NotFoundError('No such credential.');
  return credential;
}

/** Seals and stores a credential of `record`, audited `credential.create` (secrets masked). */
export async function addCredential(cmd: CommandContext, kind: InventoryKind, record: InventoryRecord, input: NewCredential): Promise<Credential> {
  const { vault } = cmd;
  return inTransaction(cmd, async (t) => {
    const credential = await cmd.models.Credential.create(
      {
        containerId: kind.credentialKey === 'containerId' ? record.id : null,
        virtualMachineId: kind.credentialKey === 'virtualMachineId' ? record.id : null,
        label: input.label,
        username: input.username,
        secret: vault.seal(input.password, SECRET_PURPOSE),
        sshKey: input.sshKey ? vault.seal(input.sshKey, SSH_KEY_PURPOSE) : null,
        keyId: vault.keyId,
        createdBy: cmd.actor.username,
      },
      { transaction: t },
    );
    const after = { label: input.label, username: input.username, password: input.password, sshKey: input.sshKey ?? null };
    await cmd.auditor.record(cmd.actor, event(kind, record, 'credential.create', changedFields(null, after, AUDITED, SECRETS)), t);
    return credential;
  });
}

/**
 * Opens a credential for someone who asked for it on purpose. The audit row is written first, in a
 * transaction that must commit before the plaintext leaves this function.
 */
export async function revealCredential(cmd: CommandContext, kind: InventoryKind, record: InventoryRecord, credential: Credential): Promise<RevealedCredential> {
  const opened = await inTransaction(cmd, async (t) => {
    await cmd.auditor.record(cmd.actor, event(kind, record, 'credential.reveal', { label: { after: credential.label }, username: { after: credential.username } }), t);
    try {
      return {
        label: credential.label,
        username: credential.username,
        password: cmd.vault.open(credential.secret, SECRET_PURPOSE),
        sshKey: credential.sshKey === null ? null : cmd.vault.open(credential.sshKey, SSH_KEY_PURPOSE),
      };
    } catch (err) {
      // A key removed from the configuration before `bin/rotate-key` ran, or a damaged row.
      if (err instanceof VaultError) throw new ConflictError(`This credential cannot be opened: ${err.message}.`);
      throw err;
    }
  });
  return opened;
}

/** Deletes a credential, audited `credential.delete` with what it was (secrets masked). */
export async function deleteCredential(cmd: CommandContext, kind: InventoryKind, record: InventoryRecord, credential: Credential): Promise<void> {
  await inTransaction(cmd, async (t) => {
    const before = { label: credential.label, username: credential.username, password: credential.secret, sshKey: credential.sshKey };
    await credential.destroy({ transaction: t });
    await cmd.auditor.record(cmd.actor, event(kind, record, 'credential.delete', changedFields(before, null, AUDITED, SECRETS)), t);
  });
}
