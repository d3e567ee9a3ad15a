import crypto from 'node:crypto';
import type { User } from '../../models/index.js';
import { createDomain, createService } from '../factories/edge.js';
import { createContainer } from '../factories/inventory.js';
import type { AuditEntry } from './audit-cases.js';

/**
 * Audit-coverage entries for src/routes/services.ts and src/routes/domains.ts (see audit-cases.ts).
 * Service events are recorded on the service's container (objectType 'container'); domain events on
 * the domain.
 */
export function serviceAuditCases(): Record<string, AuditEntry> {
  const unique = () => `audit-${crypto.randomBytes(4).toString('hex')}`;
  /** A tcp service (random high port) on a container of the admin's. */
  const onService = (action: string, suffix: string, body?: Record<string, unknown>): AuditEntry => ({
    action,
    async build(admin: User) {
      const container = await createContainer({ username: admin.username });
      const service = await createService({ containerId: container.id, type: 'tcp' });
      return { path: `/containers/${container.id}/services/${service.id}${suffix}`, body };
    },
  });
  const onDomain = (action: string, suffix: string, body?: () => Record<string, unknown>): AuditEntry => ({
    action,
    async build() {
      const domain = await createDomain();
      return { path: `/admin/domains/${domain.id}${suffix}`, body: body?.() };
    },
  });
  const change = { type: 'tcp', internalPort: 2222 };
  return {
    'POST /containers/:id/services': {
      action: 'service.create',
      async build(admin: User) {
        const container = await createContainer({ username: admin.username });
        return { path: `/containers/${container.id}/services`, body: { type: 'http', internalPort: 8080, externalHostname: `${unique()}.example.org` } };
      },
    },
    'PUT /containers/:id/services/:serviceId': onService('service.update', '', change),
    'POST /containers/:id/services/:serviceId': onService('service.update', '', change),
    'DELETE /containers/:id/services/:serviceId': onService('service.delete', ''),
    'POST /containers/:id/services/:serviceId/delete': onService('service.delete', '/delete'),
    'POST /admin/domains': { action: 'publicDomain.create', build: async () => ({ path: '/admin/domains', body: { name: `${unique()}.example.org`, userClaimable: true } }) },
    'POST /admin/domains/:domainId': onDomain('publicDomain.update', '', () => ({ name: `${unique()}.example.org`, certificatePath: '/etc/ssl/audit.pem', keyPath: '/etc/ssl/audit.key' })),
    'POST /admin/domains/:domainId/delete': onDomain('publicDomain.delete', '/delete'),
    'POST /admin/domains/:domainId/default': onDomain('publicDomain.default', '/default'),
  };
}
