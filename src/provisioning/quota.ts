import { fn, col, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models, UserQuota } from '../../models/index.js';

/** Resources a user has or asks for; a quota is the same shape (the most allowed). */
export interface Resources {
  containers: number;
  cores: number;
  memoryMb: number;
  diskGb: number;
}

export interface Overage {
  resource: keyof Resources;
  limit: number;
  used: number;
  wanted: number;
  /** "memory: 6144 MB used + 4096 MB asked > 8192 MB allowed". */
  text: string;
}

const UNITS: Record<keyof Resources, [string, string]> = {
  containers: ['containers', ''],
  cores: ['cores', ''],
  memoryMb: ['memory', ' MB'],
  diskGb: ['disk', ' GB'],
};

/** An admin's override per resource; null keeps the configured default. */
export type QuotaInput = { [K in keyof Resources]: number | null };

/** Which UserQuotas column overrides which resource. */
export const QUOTA_COLUMNS = { containers: 'maxContainers', cores: 'maxCores', memoryMb: 'maxMemoryMb', diskGb: 'maxDiskGb' } as const;
const RESOURCES = Object.keys(QUOTA_COLUMNS) as (keyof Resources)[];

/** The configured defaults every user has unless an admin overrides them. */
export function defaultQuota(config: Pick<Config, 'QUOTA_CONTAINERS' | 'QUOTA_CORES' | 'QUOTA_MEMORY_MB' | 'QUOTA_DISK_GB'>): Resources {
  return { containers: config.QUOTA_CONTAINERS, cores: config.QUOTA_CORES, memoryMb: config.QUOTA_MEMORY_MB, diskGb: config.QUOTA_DISK_GB };
}

/** A user's override as a QuotaInput (all null without a row). */
export function overrideOf(row: UserQuota | null): QuotaInput {
  return Object.fromEntries(RESOURCES.map((k) => [k, row?.[QUOTA_COLUMNS[k]] ?? null])) as QuotaInput;
}

/** The user's quota: the configured defaults, with an admin's per-user override where set. */
export async function quotaFor(models: Models, config: Config, username: string, transaction?: Transaction): Promise<Resources> {
  const user = await models.User.findOne({ where: { username }, attributes: ['id'], transaction });
  const override = overrideOf(user ? await models.UserQuota.findOne({ where: { userId: user.id }, transaction }) : null);
  const defaults = defaultQuota(config);
  return Object.fromEntries(RESOURCES.map((k) => [k, override[k] ?? defaults[k]])) as unknown as Resources;
}

/**
 * What the user owns or has pending: every container record in their name (running, stopped,
 * being created, waiting for approval, failed). Records Berth did not create count as containers
 * with no known size.
 */
export async function usageOf(models: Models, username: string, transaction?: Transaction): Promise<Resources> {
  const row = (await models.Container.findOne({
    where: { username },
    attributes: [
      [fn('COUNT', col('id')), 'containers'],
      [fn('SUM', col('cores')), 'cores'],
      [fn('SUM', col('memoryMb')), 'memoryMb'],
      [fn('SUM', col('diskGb')), 'diskGb'],
    ],
    raw: true,
    transaction,
  })) as unknown as Record<keyof Resources, string | number | null> | null;
  const n = (v: string | number | null | undefined) => Number(v ?? 0);
  return { containers: n(row?.containers), cores: n(row?.cores), memoryMb: n(row?.memoryMb), diskGb: n(row?.diskGb) };
}

/** The limits `wanted` on top of `used` goes past; empty when within quota. */
export function overQuota(used: Resources, wanted: Resources, quota: Resources): Overage[] {
  return (Object.keys(UNITS) as (keyof Resources)[])
    .filter((k) => used[k] + wanted[k] > quota[k])
    .map((k) => {
      const [name, unit] = UNITS[k];
      return { resource: k, limit: quota[k], used: used[k], wanted: wanted[k], text: `${name}: ${used[k]}${unit} used + ${wanted[k]}${unit} asked > ${quota[k]}${unit} allowed` };
    });
}
