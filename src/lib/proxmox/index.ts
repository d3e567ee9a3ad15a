// Public surface of Berth's Proxmox client. Import from here, not from the files behind it.
export { createProxmoxClient, authenticateUser, listRealms, ProxmoxClient, DEFAULT_TIMEOUT_MS } from './client.js';
export {
  ProxmoxError, ProxmoxAuthError, ProxmoxPermissionError, ProxmoxTlsError, ProxmoxTimeoutError,
  ProxmoxUnreachableError, ProxmoxTaskError, ProxmoxTfaRequiredError, ProxmoxNodeOfflineError, isProxmoxError,
  cleanProxmoxText, type ProxmoxErrorKind, type ProxmoxErrorCode,
} from './errors.js';
export { TICKET_LIFETIME_MS } from './auth.js';
export type { CreateContainerSpec, CloneContainerSpec, NetSpec, ResizeSpec } from './containers.js';
export { formatNet } from './containers.js';
export { isTaskSuccess, type WaitOptions, type FollowOptions, type TaskLineHandler } from './tasks.js';
export { parseSize, formatSize, volumeSize, type DiskSize } from './sizes.js';
export { normalizeFingerprint } from './tls.js';
export { formatDuration } from './transport.js';
export { parseUpid, formatUpid, type Upid } from './upid.js';
export { parsePropertyString, formatPropertyString, macFromNet, staticIpv4FromNet } from './property-string.js';
export { primaryIpv4 } from './interfaces.js';
export { toNumber } from './numbers.js';
export type * from './types.js';
