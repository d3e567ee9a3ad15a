import type { Request } from 'express';
import { actorOf } from '../audit/index.js';
import type { CommandContext } from '../services/context.js';
import type { RouteContext } from './context.js';

/** The command context of one request: the app's dependencies, the audit actor and the signed-in user. */
export function commandContext(ctx: RouteContext, req: Request): CommandContext {
  const { models, sequelize, auditor, vault, config, logger } = ctx;
  return { models, sequelize, auditor, vault, config, logger: req.log ?? logger, actor: actorOf(req), user: req.user };
}
