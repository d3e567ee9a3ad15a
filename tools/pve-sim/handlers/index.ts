// The handler table: one entry per `METHOD path` of the schema file. The server refuses to start
// if the schema has an operation without a handler, so no path can be forgotten.
import type { Handler } from '../core.js';
import { accessPermissionHandlers } from './access-permissions.js';
import { accessUserHandlers } from './access-users.js';
import { accessHandlers } from './access.js';
import { clusterTaskHandlers } from './cluster-tasks.js';
import { clusterHandlers } from './cluster.js';
import { lxcGuestHandlers } from './lxc-guest.js';
import { lxcRebootHandlers } from './lxc-reboot.js';
import { lxcResizeHandlers } from './lxc-resize.js';
import { lxcSnapshotHandlers } from './lxc-snapshot.js';
import { lxcHandlers } from './lxc.js';
import { poolHandlers } from './pools.js';
import { qemuPowerHandlers } from './qemu-power.js';
import { qemuHandlers } from './qemu.js';
import { storageHandlers } from './storage.js';
import { taskHandlers } from './tasks.js';

export const handlers: Record<string, Handler> = {
  ...accessHandlers,
  ...accessUserHandlers,
  ...accessPermissionHandlers,
  ...clusterHandlers,
  ...clusterTaskHandlers,
  ...poolHandlers,
  ...lxcHandlers,
  ...lxcGuestHandlers,
  ...lxcResizeHandlers,
  ...lxcRebootHandlers,
  ...lxcSnapshotHandlers,
  ...qemuHandlers,
  ...qemuPowerHandlers,
  ...taskHandlers,
  ...storageHandlers,
};
