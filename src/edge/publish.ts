import type { CommandContext } from '../services/context.js';

/** What caused a publish, written on the version. */
export interface PublishTrigger {
  reason: string;
}

/** The part of a command context publishing needs (jobs and the CLI have one too). */
export type PublishContext = Pick<CommandContext, 'models' | 'sequelize' | 'config' | 'logger' | 'actor'>;

/**
 * Stub while issue 14 is built (a no-op, so callers can already call it): renders the registry,
 * proves it with nginx -t, and stores a new version when it changed.
 */
export async function publishEdgeConfig(_cmd: PublishContext, _trigger: PublishTrigger): Promise<void> {}
