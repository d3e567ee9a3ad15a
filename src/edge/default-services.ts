import type { Transaction } from 'sequelize';
import type { Container } from '../../models/index.js';
import { AppError } from '../lib/errors.js';
import type { CommandContext } from '../services/context.js';
import { defaultDomain } from './domains.js';
import { firstLabel, isEdgeHostname } from './names.js';
import { addService, type ServiceInput } from './services.js';

/**
 * The default services of a new container, registered by the container.create task in the
 * transaction that marks it running (so a container is never running without them, and a failed
 * create leaves none): its httpPort as an http service at `<first label of its hostname>.<default
 * domain>`, and ssh as a tcp service on an allocated port (EDGE_DEFAULT_HTTP_SERVICE,
 * EDGE_DEFAULT_SSH_SERVICE, EDGE_SSH_INTERNAL_PORT). They go through the same rules as any service
 * (src/edge/services.ts), as Berth itself: the default domain need not be open to users. Each one
 * that cannot be registered is skipped with a line saying why, never failing the create. Returns the
 * lines for the job's output; the caller publishes the edge config after its commit.
 */
export async function registerDefaultServices(cmd: CommandContext, container: Container, transaction: Transaction): Promise<string[]> {
  const { config, models } = cmd;
  if (!config.EDGE_DEFAULT_HTTP_SERVICE && !config.EDGE_DEFAULT_SSH_SERVICE) return [];
  if (await models.Service.count({ where: { containerId: container.id }, transaction })) {
    return [`Default services: skipped, ${container.hostname} already has services.`];
  }
  const lines: string[] = [];
  /** Registers one service, or says why it was skipped (a rule or a clash: the create still succeeds). */
  const register = async (what: string, input: ServiceInput, done: (port: number | null) => string) => {
    try {
      const service = await addService(cmd, container, input, { anyName: true, anyContainer: true }, transaction);
      lines.push(done(service.externalPort));
    } catch (err) {
      if (!(err instanceof AppError) || (err.status !== 409 && err.status !== 422)) throw err;
      const why = Object.values(err.fields ?? {})[0] ?? err.message;
      lines.push(`Default ${what} service skipped: ${why}`);
    }
  };

  if (config.EDGE_DEFAULT_HTTP_SERVICE) {
    const domain = container.httpPort ? await defaultDomain(models, transaction) : null;
    const name = domain ? `${firstLabel(container.hostname).toLowerCase()}.${domain.name}` : '';
    if (!container.httpPort) lines.push('Default http service skipped: the container has no http port.');
    else if (!domain) lines.push('Default http service skipped: no default domain is set (an admin sets one under Admin > Domains).');
    else if (!isEdgeHostname(name)) lines.push(`Default http service skipped: ${name} is not a valid public name.`);
    else await register('http', { type: 'http', internalPort: container.httpPort, externalHostname: name }, () => `Default http service: https://${name} -> port ${container.httpPort}`);
  }
  if (config.EDGE_DEFAULT_SSH_SERVICE) {
    const internalPort = config.EDGE_SSH_INTERNAL_PORT;
    await register('ssh', { type: 'tcp', internalPort }, (port) => `Default ssh service: tcp port ${port} on the edge -> port ${internalPort}`);
  }
  return lines;
}
