import crypto from 'node:crypto';
import type { CreationAttributes } from 'sequelize';
import type { PublicDomain, Service } from '../../models/index.js';
import { testContext } from '../support/context.js';
import { createContainer } from './inventory.js';
import { withoutUndefined } from './overrides.js';

const hex = (n: number) => crypto.randomBytes(n).toString('hex');

/** A public domain with a unique name (`d-<hex>.example.net`), the default certificate, not claimable, not default. */
export async function createDomain(overrides: Partial<CreationAttributes<PublicDomain>> = {}): Promise<PublicDomain> {
  return testContext().db.models.PublicDomain.create({ name: `d-${hex(4)}.example.net`, certificatePath: null, keyPath: null, ...withoutUndefined(overrides) });
}

/**
 * A service row written directly (no rules, no audit: for setting up a test). Default: an http
 * service at a unique name on a new container; a tcp/udp one gets a random high port unless given.
 */
export async function createService(overrides: Partial<CreationAttributes<Service>> = {}): Promise<Service> {
  overrides = withoutUndefined(overrides);
  const type = overrides.type ?? 'http';
  const containerId = overrides.containerId ?? (await createContainer()).id;
  return testContext().db.models.Service.create({
    type,
    internalPort: 8080,
    externalHostname: type === 'http' ? `s-${hex(4)}.example.net` : null,
    externalPort: type === 'http' ? null : 40_000 + crypto.randomInt(0, 25_000),
    tls: type === 'http',
    ...overrides,
    containerId,
  });
}
