// Public option and result types of the Proxmox client. Result types list the fields Berth uses;
// rows keep any other field Proxmox sends (index signature), with numbers already coerced.
import type { ProxmoxTlsOptions } from './tls.js';

export type { ProxmoxTlsOptions };

/** Ticket login with `user@realm` and password; the client renews the ticket itself. */
export interface TicketAuth {
  type: 'ticket';
  /** `user@realm`, e.g. `alice@pve`. */
  username: string;
  password: string;
}

/** API token: `tokenId` is `USER@REALM!TOKENID`, `secret` the UUID shown once by Proxmox. */
export interface TokenAuth {
  type: 'token';
  tokenId: string;
  secret: string;
}

/** Logger-like sink; the client never logs passwords, tickets or token secrets. */
export interface ProxmoxLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ProxmoxClientOptions {
  /** Node API base URL, e.g. `https://pve1.example.org:8006` (a trailing `/api2/json` is fine). */
  baseUrl: string;
  tls?: ProxmoxTlsOptions;
  /** Per-request timeout, covering connect, headers and body (default 15000). */
  timeoutMs?: number;
  /**
   * How long opening a connection (TCP and TLS handshake) may take, within `timeoutMs` (default:
   * `timeoutMs`). Short, so an unreachable node fails fast while a slow answer may take longer.
   */
  connectTimeoutMs?: number;
  /** Cancels every call of the client (a cancelled job): calls throw the signal's reason. */
  signal?: AbortSignal;
  auth: TicketAuth | TokenAuth;
  /** Milliseconds since the epoch; injectable so tests can age tickets. Default Date.now. */
  clock?: () => number;
  /** Renew the ticket once it is this old (default 1 h; tickets live 2 h). */
  renewAfterMs?: number;
  logger?: ProxmoxLogger;
}

/** What a successful ticket login returned (the ticket itself stays inside the client). */
export interface LoginResult {
  username: string;
  clustername?: string;
  /** Capabilities map Proxmox adds to the login answer (`cap.vms["VM.Allocate"]`, ...). */
  cap?: Record<string, Record<string, number>>;
}

export interface PveVersion {
  version: string;
  release: string;
  repoid: string;
  [k: string]: unknown;
}

export interface PveNode {
  node: string;
  status: 'online' | 'offline' | 'unknown' | string;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  disk?: number;
  maxdisk?: number;
  uptime?: number;
  ssl_fingerprint?: string;
  [k: string]: unknown;
}

/** One row of `/cluster/resources`. Machines have `vmid`, nodes `node`, storages `storage`. */
export interface ClusterResource {
  id: string;
  type: 'qemu' | 'lxc' | 'node' | 'storage' | 'sdn' | 'pool' | string;
  node?: string;
  vmid?: number;
  name?: string;
  status?: string;
  template?: number;
  tags?: string;
  lock?: string;
  maxmem?: number;
  mem?: number;
  maxcpu?: number;
  maxdisk?: number;
  uptime?: number;
  storage?: string;
  [k: string]: unknown;
}

/** A row of `/nodes/{node}/lxc` or `/nodes/{node}/qemu`. */
export interface MachineSummary {
  vmid: number;
  name?: string;
  status: string;
  lock?: string;
  tags?: string;
  template?: number;
  maxmem?: number;
  maxdisk?: number;
  cpus?: number;
  uptime?: number;
  [k: string]: unknown;
}

/** `status/current` of a container or VM. */
export interface MachineStatus extends MachineSummary {
  type?: string;
}

/** A machine config: keys as Proxmox stores them plus `digest`; known numeric keys are numbers. */
export type MachineConfig = Record<string, string | number | undefined> & { digest?: string };

/** One network interface as seen inside a running machine. */
export interface MachineInterface {
  name: string;
  /** Lower-case MAC as the machine reports it. */
  hwaddr?: string;
  /** IPv4 addresses without prefix length. */
  ipv4: string[];
  ipv6: string[];
}

export interface TaskStatus {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  /** Present when stopped: `OK`, `WARNINGS: n`, or the error text. */
  exitstatus?: string;
  starttime: number;
  pid: number;
  [k: string]: unknown;
}

export interface TaskLogLine {
  /** 1-based line number. */
  n: number;
  t: string;
}

export interface StorageInfo {
  storage: string;
  type: string;
  /** Content types as a list (`vztmpl`, `rootdir`, `images`, ...). */
  content: string[];
  active?: number;
  enabled?: number;
  shared?: number;
  total?: number;
  used?: number;
  avail?: number;
  [k: string]: unknown;
}

export interface TemplateInfo {
  /** Volume id to pass as `ostemplate`, e.g. `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`. */
  volid: string;
  storage: string;
  /** The file name, e.g. `debian-12-standard_12.7-1_amd64.tar.zst`. */
  file: string;
  size?: number;
  format?: string;
  ctime?: number;
}

/**
 * One node's capacity from `/cluster/resources?type=node`. Proxmox leaves the numbers out for an
 * offline node and for callers without Sys.Audit; they are 0 here, so such a node has no room.
 */
export interface NodeResources {
  node: string;
  /** `online`, `offline` or `unknown`. */
  status: string;
  /** Bytes. */
  maxmem: number;
  mem: number;
  /** `maxmem - mem`, never below 0. */
  free: number;
  maxcpu: number;
  /** Load as a fraction of all cores (0..1). */
  cpu: number;
  /** Bytes of the node's root filesystem, not of its storages. */
  maxdisk: number;
  disk: number;
}

/** A row of `GET .../lxc/{vmid}/snapshot`; the last row is the pseudo-snapshot `current`. */
export interface Snapshot {
  name: string;
  description?: string;
  /** Unix seconds; absent on `current`. */
  snaptime?: number;
  parent?: string;
  /** `prepare` while being created, `delete` while being removed. */
  snapstate?: string;
  /** On `current` only: 1 when the container runs. */
  running?: number;
  /** On `current` only: the config digest. */
  digest?: string;
  [k: string]: unknown;
}

export interface Realm {
  realm: string;
  type: string;
  comment?: string;
  default?: number;
  [k: string]: unknown;
}

export interface PveUser {
  userid: string;
  enable?: number;
  expire?: number;
  firstname?: string;
  lastname?: string;
  email?: string;
  comment?: string;
  /** Group ids, parsed from Proxmox's comma-separated list. */
  groups: string[];
  'realm-type'?: string;
  [k: string]: unknown;
}
