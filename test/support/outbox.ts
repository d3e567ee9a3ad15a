// Delivering the outbox in tests. The run shares one database, so a test's deliverer handles only
// the messages queued after the test's mark (`outboxMark()`), never another test's leftovers.
import { Op, type WhereOptions } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { OutboxMessage } from '../../models/index.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import { OutboxDeliverer } from '../../src/notify/deliverer.js';
import { testContext } from './context.js';
import { track } from './resources.js';

/** The highest outbox id so far (0 when empty): pass it as `since` to handle only newer messages. */
export async function outboxMark(): Promise<number> {
  return ((await testContext().db.models.OutboxMessage.max<number, OutboxMessage>('id')) as number | null) ?? 0;
}

export interface TestDelivererOptions {
  /** Handle only messages with an id above this (default: the mark when the deliverer is made). */
  since?: number;
  /** Further restriction (e.g. `{ id: [...] }`). */
  scope?: WhereOptions<OutboxMessage>;
  clock?: () => number;
  id?: string;
  logger?: Logger;
}

/** A deliverer on the run's database with `config` (its SMTP settings), limited to this test's messages. */
export async function testDeliverer(config: Config, options: TestDelivererOptions = {}): Promise<OutboxDeliverer> {
  const { db } = testContext();
  const since = options.since ?? (await outboxMark());
  return new OutboxDeliverer({
    models: db.models,
    sequelize: db.sequelize,
    config,
    logger: options.logger ?? createLogger('silent'),
    clock: options.clock,
    id: options.id,
    scope: { [Op.and]: [{ id: { [Op.gt]: since } }, options.scope ?? {}] },
  });
}

/** A started (polling) test deliverer, tracked: `stop()` it before the test ends. */
export async function startTestDeliverer(config: Config, options: TestDelivererOptions = {}): Promise<OutboxDeliverer & { close(): Promise<void> }> {
  const deliverer = await testDeliverer(config, options);
  deliverer.start();
  const untrack = track(`outbox deliverer ${deliverer.id}`, () => deliverer.stop());
  return Object.assign(deliverer, { close: () => untrack() });
}

/** The outbox rows with these ids, in id order, fresh from the database. */
export async function outboxRows(ids: number[]): Promise<OutboxMessage[]> {
  return testContext().db.models.OutboxMessage.findAll({ where: { id: ids }, order: [['id', 'ASC']] });
}
