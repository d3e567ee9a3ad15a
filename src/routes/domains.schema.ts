import { z } from 'zod';
import type { DomainInput } from '../edge/domains.js';
import { edgeHostname, edgePath } from '../edge/names.js';
import { checkbox, optional } from '../lib/validators.js';

/**
 * POST /admin/domains and /admin/domains/:domainId. The name and the certificate and key paths are
 * written into the edge's nginx.conf, so each must pass names.ts's strict rules (no escaping later).
 * The paths come as a pair or not at all (empty: the site's default certificate).
 */
export const domainInput = z
  .object({
    // PublicDomains.name is 191 characters (a unique utf8mb4 index on MariaDB); a longer name would be a database error.
    name: edgeHostname.refine((v) => v.length <= 191, { message: 'A domain has at most 191 characters.' }),
    certificatePath: optional(edgePath),
    keyPath: optional(edgePath),
    userClaimable: checkbox('userClaimable is true or false.'),
  })
  .superRefine((v, ctx) => {
    if (v.certificatePath && !v.keyPath) ctx.addIssue({ code: 'custom', path: ['keyPath'], message: 'Give the key path too, or neither path (the default certificate).' });
    if (v.keyPath && !v.certificatePath) ctx.addIssue({ code: 'custom', path: ['certificatePath'], message: 'Give the certificate path too, or neither path (the default certificate).' });
  })
  .transform((v): DomainInput => ({ name: v.name, certificatePath: v.certificatePath ?? null, keyPath: v.keyPath ?? null, userClaimable: v.userClaimable }));
