import { z } from 'zod';
import type { QuotaInput } from '../provisioning/quota.js';
import type { PoolInput, TemplateInput } from '../provisioning/settings.js';
import { blankToUndefined as blank, ipv4, line } from '../lib/validators.js';

/**
 * Input rules for the self-service settings. Volume ids and bridges end up in Proxmox API calls
 * (ostemplate, net0), labels in HTML, so each is strict.
 */

/** A node chosen from the select (a registered node's id). */
const nodeId = z.preprocess(blank, z.coerce.number({ error: 'Choose a node.' }).int('Choose a node.').positive('Choose a node.'));

/**
 * `<storage>:vztmpl/<file>`, as Proxmox lists container templates: a storage id, then a file name
 * ending in a template archive extension, with no path separators or spaces.
 */
export const VOLID_RULE = /^[A-Za-z][A-Za-z0-9._-]{0,99}:vztmpl\/[A-Za-z0-9][A-Za-z0-9._+-]{0,200}\.(tar\.(gz|xz|zst|bz2)|tgz)$/;

const volid = z
  .string({ error: 'Enter the template volume id.' })
  .trim()
  .min(1, 'Enter the template volume id.')
  .max(255, 'At most 255 characters.')
  .regex(VOLID_RULE, 'A template volume id looks like local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst (storage:vztmpl/file).');

const osRelease = z.string({ error: 'Enter the label users choose by, e.g. Debian 12.' }).pipe(line(191)).pipe(z.string().min(1, 'Enter the label users choose by, e.g. Debian 12.'));

export const templateSchema = z.object({ nodeId, volid, osRelease }) satisfies z.ZodType<TemplateInput>;

/**
 * The templates ticked after a discovery. JSON: `{templates: [{nodeId, volid, osRelease}]}`. The
 * form: each ticked box `pick` is `<nodeId>:<volid>` and its label is `osRelease:<nodeId>:<volid>`
 * (one field per row, so a long list stays under the body's parameter limit). Field errors are keyed
 * `templates.<key>.<field>`.
 */
export const discoveredSchema = z.preprocess(
  (body) => {
    if (!body || typeof body !== 'object') return body;
    const b = body as Record<string, unknown>;
    if (Array.isArray(b.templates)) return { templates: Object.fromEntries(b.templates.map((t, i) => [String(i), t])) };
    const picks = [b.pick].flat().filter((x): x is string => typeof x === 'string');
    return {
      templates: Object.fromEntries(
        picks.map((key) => {
          const colon = key.indexOf(':');
          return [key, { nodeId: colon > 0 ? key.slice(0, colon) : '', volid: key.slice(colon + 1), osRelease: b[`osRelease:${key}`] }];
        }),
      ),
    };
  },
  z.object({
    templates: z
      .record(z.string(), templateSchema, { error: 'Tick at least one template to add.' })
      .refine((r) => Object.keys(r).length > 0, 'Tick at least one template to add.')
      .refine((r) => Object.keys(r).length <= 500, 'At most 500 templates at once.')
      .transform((r) => Object.values(r)),
  }),
);

/** A bridge name as Proxmox allows it (vmbr0, vmbr1.20). */
const bridge = z
  .string({ error: 'Enter the bridge, e.g. vmbr0.' })
  .trim()
  .regex(/^[A-Za-z][A-Za-z0-9._-]{0,15}$/, 'A bridge is a name such as vmbr0 (letters, digits, . _ -, at most 16).');

const cidr = z
  .string({ error: 'Enter the network, e.g. 10.20.0.0/24.' })
  .trim()
  .pipe(z.cidrv4({ error: 'Enter the network as address/prefix, e.g. 10.20.0.0/24.' }));

const address = (what: string) => z.string({ error: `Enter the ${what}, e.g. 10.20.0.1.` }).pipe(ipv4);

export const poolSchema = z.object({
  nodeId,
  bridge,
  cidr,
  gateway: address('gateway'),
  rangeStart: address('first address handed out'),
  rangeEnd: address('last address handed out'),
}) satisfies z.ZodType<PoolInput>;

/** One quota value: blank or null keeps the default. */
const limit = (label: string) =>
  z.preprocess(
    (x) => (x === null || blank(x) === undefined ? null : x),
    z.coerce.number({ error: `${label} must be a number (or blank for the default).` }).int(`${label} must be a whole number.`).min(0, `${label} cannot be negative.`).max(1_000_000_000, `${label} is at most 1000000000.`).nullable(),
  );

const quotaFields = {
  containers: limit('Containers'),
  cores: limit('Cores'),
  memoryMb: limit('Memory'),
  diskGb: limit('Disk'),
};

/** POST /admin/quotas/:userId: the user is in the path. */
export const quotaSchema = z.object(quotaFields) satisfies z.ZodType<QuotaInput>;

/** POST /admin/quotas: the user is named in the form. */
export const quotaByNameSchema = z.object({
  username: z.string({ error: 'Enter a username.' }).trim().min(1, 'Enter a username.').max(191, 'At most 191 characters.'),
  ...quotaFields,
});
