// The handler table: one entry per `METHOD path` of the schema file. The server refuses to start
// if the schema has an operation without a handler, so no path can be forgotten.
import type { Handler } from '../core.js';
import { accessHandlers } from './access.js';
import { clusterHandlers } from './cluster.js';
import { lxcGuestHandlers } from './lxc-guest.js';
import { lxcHandlers } from './lxc.js';
import { qemuHandlers } from './qemu.js';
import { storageHandlers } from './storage.js';
import { taskHandlers } from './tasks.js';

export const handlers: Record<string, Handler> = {
  ...accessHandlers,
  ...clusterHandlers,
  ...lxcHandlers,
  ...lxcGuestHandlers,
  ...qemuHandlers,
  ...taskHandlers,
  ...storageHandlers,
};
