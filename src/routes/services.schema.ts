import { z } from 'zod';
import { SERVICE_TYPES } from '../../models/Service.js';
import { edgeHostname } from '../edge/names.js';
import type { ServiceInput } from '../edge/services.js';
import { blankToUndefined, checkbox, optional } from '../lib/validators.js';

/**
 * A port as forms (text) and JSON (a number) send it: digits only, 1-65535. "80abc", "0x50", "1e3",
 * " 80" and the like are refused rather than read as a number.
 */
export const portNumber = (message: string) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^[0-9]{1,5}$/.test(v) ? Number(v) : v),
    z.number({ error: message }).int(message).min(1, message).max(65535, message),
  );

/**
 * POST /containers/:id/services, PUT and POST /containers/:id/services/:serviceId. Each value ends up
 * in the edge's nginx.conf, so each is checked against a strict rule here (the public name with
 * names.ts's edgeHostname); the rules that depend on the type, the configuration and the other
 * services are the command's (src/edge/services.ts). An empty form field means "not given".
 */
export const serviceInput = z.object({
  type: z.preprocess(blankToUndefined, z.enum(SERVICE_TYPES, { error: 'Choose http, tcp or udp.' })),
  internalPort: portNumber('The internal port is a number from 1 to 65535.'),
  externalHostname: optional(edgeHostname),
  externalPort: z.preprocess(blankToUndefined, portNumber('The external port is a number from 1 to 65535, or empty for the next free one.').optional()),
  tls: checkbox('tls is true or false.'),
}) satisfies z.ZodType<ServiceInput>;
