import { ForeignKeyConstraintError, Op, UniqueConstraintError, type Transaction } from 'sequelize';
import type { Models, PublicDomain } from '../../models/index.js';
import { changedFields } from '../audit/index.js';
import { ConflictError } from '../lib/errors.js';
import { inTransaction, type CommandContext } from '../services/context.js';
import { domainFor } from './names.js';
import { publishAfterChange } from './publish.js';
import type { Published } from './services.js';

/**
 * Public domains (admin): the domains http services take their names under, each with its
 * certificate and key on the edge host (or the site's default pair), whether users may claim names
 * under it, and which one is the default (the name of a new container's http service). Every change
 * publishes the edge config: certificate paths are written into it.
 */

/** A domain as the admin form and the API give it (already parsed: src/routes/domains.schema.ts). */
export interface DomainInput {
  name: string;
  /** Both or neither; null: the site's default certificate (EDGE_CERTIFICATE). */
  certificatePath: string | null;
  keyPath: string | null;
  userClaimable: boolean;
}

export interface DomainChange {
  domain: PublicDomain;
  published: Published;
}

const AUDITED = ['name', 'certificatePath', 'keyPath', 'userClaimable', 'isDefault'];

const snapshot = (d: PublicDomain) => ({ name: d.name, certificatePath: d.certificatePath, keyPath: d.keyPath, userClaimable: Boolean(d.userClaimable), isDefault: Boolean(d.isDefault) });

function event(domain: PublicDomain, action: string, before: ReturnType<typeof snapshot> | null, after: ReturnType<typeof snapshot> | null) {
  return { action, objectType: 'publicDomain', objectId: domain.id, objectLabel: domain.name, changes: changedFields(before, after, AUDITED) };
}

const nameTaken = (name: string) => new ConflictError(`A domain named ${name} already exists.`, { name: `${name} is already a domain.` });

/** How many services have their name under `domain`. */
function servicesUnder(models: Models, domain: PublicDomain, transaction?: Transaction): Promise<number> {
  return models.Service.count({ where: { domainId: domain.id }, transaction });
}

/**
 * Points every http service at the domain its name now sits under. A new domain takes the names one
 * label below it that were outside every domain (admin-allowed) or under a shorter parent, so they
 * are served with its certificate from now on.
 */
async function relinkServices(models: Models, transaction: Transaction): Promise<number> {
  const [domains, services] = await Promise.all([
    models.PublicDomain.findAll({ attributes: ['id', 'name'], transaction }),
    // Whole rows: the model's validation of an update reads the type and both exposures.
    models.Service.findAll({ where: { type: 'http', externalHostname: { [Op.ne]: null } }, transaction }),
  ]);
  let moved = 0;
  for (const s of services) {
    const id = domainFor(s.externalHostname!, domains)?.id ?? null;
    if (id === s.domainId) continue;
    await s.update({ domainId: id }, { transaction });
    moved++;
  }
  return moved;
}

/** As for services: a publish fault after the commit is logged (null), never a 500 for a saved change. */
async function publish(cmd: CommandContext, reason: string): Promise<Published> {
  return publishAfterChange(cmd, { reason });
}

/** Adds a domain (audited publicDomain.create); http services whose names sit under it move to it. */
export async function createDomain(cmd: CommandContext, input: DomainInput): Promise<DomainChange> {
  const domain = await inTransaction(cmd, async (t) => {
    if (await cmd.models.PublicDomain.findOne({ where: { name: input.name }, attributes: ['id'], transaction: t })) throw nameTaken(input.name);
    const row = await cmd.models.PublicDomain.create({ name: input.name, certificatePath: input.certificatePath, keyPath: input.keyPath, userClaimable: input.userClaimable }, { transaction: t }).catch((err: unknown) => {
      throw err instanceof UniqueConstraintError ? nameTaken(input.name) : err;
    });
    const moved = await relinkServices(cmd.models, t);
    const audit = event(row, 'publicDomain.create', null, snapshot(row));
    await cmd.auditor.record(cmd.actor, moved ? { ...audit, changes: { ...audit.changes, servicesMoved: { after: moved } } } : audit, t);
    return row;
  });
  return { domain, published: await publish(cmd, `domain ${domain.name} added`) };
}

/**
 * Changes a domain (audited publicDomain.update with before/after). Its name cannot change while
 * services use it: their names were checked against the old one.
 */
export async function updateDomain(cmd: CommandContext, domain: PublicDomain, input: DomainInput): Promise<DomainChange> {
  const updated = await inTransaction(cmd, async (t) => {
    const before = snapshot(domain);
    if (input.name !== domain.name) {
      const used = await servicesUnder(cmd.models, domain, t);
      if (used) throw new ConflictError(`${domain.name} cannot be renamed while ${used} service${used === 1 ? '' : 's'} use it.`, { name: `${used} service${used === 1 ? ' has its' : 's have their'} name under ${domain.name}.` });
      const other = await cmd.models.PublicDomain.findOne({ where: { name: input.name }, attributes: ['id'], transaction: t });
      if (other) throw nameTaken(input.name);
    }
    await domain.update({ name: input.name, certificatePath: input.certificatePath, keyPath: input.keyPath, userClaimable: input.userClaimable }, { transaction: t }).catch((err: unknown) => {
      throw err instanceof UniqueConstraintError ? nameTaken(input.name) : err;
    });
    if (before.name !== domain.name) await relinkServices(cmd.models, t);
    await cmd.auditor.record(cmd.actor, event(domain, 'publicDomain.update', before, snapshot(domain)), t);
    return domain;
  });
  return { domain: updated, published: await publish(cmd, `domain ${updated.name} changed`) };
}

/** Deletes a domain no service uses (audited publicDomain.delete); refused with a 409 while one does. */
export async function deleteDomain(cmd: CommandContext, domain: PublicDomain): Promise<DomainChange> {
  await inTransaction(cmd, async (t) => {
    const used = await servicesUnder(cmd.models, domain, t);
    if (used) throw new ConflictError(`${domain.name} is used by ${used} service${used === 1 ? '' : 's'}; remove or rename them first.`);
    const before = snapshot(domain);
    // The foreign key (ON DELETE RESTRICT) is the last word when a service was added meanwhile.
    await domain.destroy({ transaction: t }).catch((err: unknown) => {
      throw err instanceof ForeignKeyConstraintError ? new ConflictError(`${domain.name} is used by a service; remove or rename it first.`) : err;
    });
    await cmd.auditor.record(cmd.actor, event(domain, 'publicDomain.delete', before, null), t);
  });
  return { domain, published: await publish(cmd, `domain ${domain.name} removed`) };
}

/**
 * Makes `domain` the one default domain, unsetting the previous default in the same transaction (so
 * there is never a moment with two). Audited publicDomain.default, naming the previous default.
 */
export async function setDefaultDomain(cmd: CommandContext, domain: PublicDomain): Promise<DomainChange> {
  await inTransaction(cmd, async (t) => {
    const previous = await cmd.models.PublicDomain.findAll({ where: { isDefault: true, id: { [Op.ne]: domain.id } }, attributes: ['id', 'name'], transaction: t });
    // By condition, not by the ids just read: an UPDATE reads the latest rows (MariaDB locks them), so a
    // default set by a concurrent switch is unset too, where a snapshot read might not see it.
    await cmd.models.PublicDomain.update({ isDefault: false }, { where: { isDefault: true, id: { [Op.ne]: domain.id } }, transaction: t });
    const before = snapshot(domain);
    await domain.update({ isDefault: true }, { transaction: t });
    const audit = event(domain, 'publicDomain.default', before, snapshot(domain));
    await cmd.auditor.record(cmd.actor, { ...audit, changes: { ...audit.changes, previousDefault: { before: previous.map((d) => d.name).join(', ') || null } } }, t);
  });
  return { domain, published: await publish(cmd, `default domain set to ${domain.name}`) };
}

/** The default domain, if one is set. */
export function defaultDomain(models: Models, transaction?: Transaction): Promise<PublicDomain | null> {
  return models.PublicDomain.findOne({ where: { isDefault: true }, order: [['id', 'ASC']], transaction });
}
