import { z } from 'zod';
import * as v from '../lib/validators.js';
import { toAttributeNames, type InventoryKind } from './kinds.js';

/**
 * Input rules for a container or VM record, shared by the forms, the JSON API, CSV import and the
 * drift page's import. A field that is absent is left as it is (JSON PUT); an empty form field
 * clears it (null). Input keys are the public names (`containerId` for a container's VMID, as API
 * clients and forms send it); the parsed fields are keyed by model attribute (`vmid`).
 */

const clearable = <S extends z.ZodType>(schema: S) =>
  z.preprocess((x) => (typeof x === 'string' && x.trim() === '' ? null : x), schema.nullable().optional());

const common = {
  username: clearable(v.username),
  nodeId: clearable(z.coerce.number({ error: 'Choose a node.' }).int().positive('Choose a node.')),
  macAddress: clearable(v.mac),
  ipv4Address: clearable(v.ipv4),
  environment: clearable(v.environment),
  expiresAt: clearable(v.isoDate),
  purpose: clearable(v.line(255)),
  tags: clearable(v.tags),
  notes: clearable(v.notes),
};

const aiContainer = z.preprocess(
  (x) => (x === undefined || x === null || (typeof x === 'string' && x.trim() === '') ? undefined : x === true ? 'Y' : x === false ? 'N' : x),
  z.string().trim().regex(/^[A-Za-z0-9_-]{1,50}$/, 'Use a short flag such as Y or N.').optional(),
);

function shape(kind: InventoryKind) {
  const status = z.preprocess((x) => (typeof x === 'string' && x.trim() === '' ? undefined : x), z.enum(kind.statuses as [string, ...string[]], { error: `Status is one of: ${kind.statuses.join(', ')}.` }).optional());
  if (kind.key === 'container') {
    return {
      hostname: v.hostname,
      containerId: clearable(v.vmid),
      osRelease: clearable(v.line(191)),
      aiContainer,
      status,
      ...common,
    };
  }
  return {
    name: v.hostname,
    vmid: clearable(v.vmid),
    osName: clearable(v.line(191)),
    rdpPort: z.preprocess((x) => (typeof x === 'string' && x.trim() === '' ? undefined : x), z.coerce.number().int().min(1, 'A port is 1–65535.').max(65535, 'A port is 1–65535.').optional()),
    status,
    ...common,
  };
}

/** Parsed record fields: model attribute → value (null clears, absent keeps). */
export type RecordFields = Record<string, unknown>;

/** The schema for creating a record of `kind`: its name is required. */
export function createSchema(kind: InventoryKind) {
  return z.object(shape(kind)).transform((fields): RecordFields => toAttributeNames(kind, fields));
}

/** The schema for updating: every field optional; the name, when given, must be valid. */
export function updateSchema(kind: InventoryKind) {
  return z
    .object(shape(kind))
    .partial()
    .transform((fields): RecordFields => toAttributeNames(kind, fields));
}

/** Ownership transfer: the new owner's username. */
export const transferSchema = z.object({ username: v.username });

