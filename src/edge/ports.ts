import { Op, UniqueConstraintError, type Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models, Service } from '../../models/index.js';
import { ConflictError } from '../lib/errors.js';

/**
 * External ports of tcp and udp services on the edge. A port is chosen inside the configured range
 * of its type (EDGE_TCP_PORTS / EDGE_UDP_PORTS), never a reserved one, and for tcp never the port the
 * edge's http or https server listens on. Who holds a port is decided by the database: the unique
 * index (type, externalPort) on Services, so two requests racing for the same port cannot both win.
 */

export type PortType = 'tcp' | 'udp';

/** How many times an allocation moves on to the next free port after losing a race for one. */
const ALLOCATION_ATTEMPTS = 8;

/** The configured range of `type`, as [first, last]. */
export function portRange(config: Config, type: PortType): [number, number] {
  return type === 'tcp' ? config.EDGE_TCP_PORTS : config.EDGE_UDP_PORTS;
}

/** Ports of `type` no service may take, whatever the range says. */
function reservedPorts(config: Config, type: PortType): Set<number> {
  const reserved = new Set(config.EDGE_RESERVED_PORTS);
  // The edge's own http and https servers listen on tcp; a udp service may still use those numbers.
  if (type === 'tcp') {
    reserved.add(config.EDGE_HTTP_PORT);
    reserved.add(config.EDGE_HTTPS_PORT);
  }
  return reserved;
}

/** Why `port` may not be chosen for a `type` service (a field message), or null when the rules allow it. */
export function portRule(config: Config, type: PortType, port: number): string | null {
  const [first, last] = portRange(config, type);
  if (port < first || port > last) return `${type} services take external ports ${first}-${last}; leave it empty to get the next free one.`;
  if (reservedPorts(config, type).has(port)) return `Port ${port} is reserved on the edge; choose another or leave it empty.`;
  return null;
}

/** The message for a port another service holds (it never says whose). */
export const portTakenMessage = (type: PortType, port: number) => `${type} port ${port} is already taken on the edge; choose another or leave it empty.`;

/** The lowest port of the range that is neither reserved, held by a service, nor in `skip`; null when the range is full. */
async function lowestFreePort(models: Models, config: Config, type: PortType, skip: Set<number>, transaction: Transaction): Promise<number | null> {
  const [first, last] = portRange(config, type);
  const held = await models.Service.findAll({
    where: { type, externalPort: { [Op.between]: [first, last] } },
    attributes: ['externalPort'],
    raw: true,
    transaction,
  });
  const taken = new Set<number>([...reservedPorts(config, type), ...skip]);
  for (const row of held) if (row.externalPort !== null) taken.add(row.externalPort);
  for (let port = first; port <= last; port++) if (!taken.has(port)) return port;
  return null;
}

/**
 * Writes a tcp/udp service with the lowest free port of its range: `write(port)` inserts or updates
 * the row. When another transaction took that port first, the unique index refuses the write and the
 * next free port is tried; a port that lost once is skipped on the next tries, because under MariaDB's
 * repeatable read this transaction's reads still do not see the row that won.
 */
export async function withFreePort(
  models: Models,
  config: Config,
  type: PortType,
  transaction: Transaction,
  write: (port: number) => Promise<Service>,
): Promise<Service> {
  const lost = new Set<number>();
  for (let attempt = 0; attempt < ALLOCATION_ATTEMPTS; attempt++) {
    const port = await lowestFreePort(models, config, type, lost, transaction);
    if (port === null) break;
    try {
      return await write(port);
    } catch (err) {
      if (!(err instanceof UniqueConstraintError)) throw err;
      lost.add(port);
    }
  }
  const [first, last] = portRange(config, type);
  throw new ConflictError(`No free ${type} port is left on the edge (range ${first}-${last}); ask an admin to widen it.`, { externalPort: `No free ${type} port is left in ${first}-${last}.` });
}
