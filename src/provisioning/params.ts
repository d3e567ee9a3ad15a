// The shapes the request command, the create task and the routes share (no imports: the task
// registry loads the tasks, and the tasks must not pull the request command in).

/** What a request that leaves a size out gets (the seed's body names none), and the smallest sizes. */
export const CONTAINER_DEFAULTS = { cores: 1, memoryMb: 512, diskGb: 8 } as const;
export const CONTAINER_MINIMUMS = { cores: 1, memoryMb: 64, diskGb: 1 } as const;

/** The task that builds a requested container (src/provisioning/create-task.ts). */
export const CREATE_TASK = 'container.create';

/** What a user asks for (parsed by src/routes/containers-create.schema.ts). */
export interface ContainerRequestInput {
  hostname: string;
  /** The template's label (the seed's osRelease); the node's ContainerTemplate row gives the volume. */
  osRelease: string;
  /** null: automatic (the node with the template and the most free memory). */
  nodeId: number | null;
  cores: number;
  memoryMb: number;
  diskGb: number;
  httpPort: number | null;
  sshPublicKey: string | null;
  aiContainer: 'Y' | 'N';
  expiresAt: string | null;
  purpose: string | null;
  /** Over quota: queue the request for an admin instead of refusing it. */
  submitForApproval: boolean;
}

/** What the create task needs besides the container row (stored as ContainerRequests.params). */
export interface ProvisionParams {
  volid: string;
  storage: string;
  /** net0 as sent to Proxmox: a pool's static address and MAC, or `ip=dhcp`. */
  net0: string;
  sshPublicKeys: string | null;
  /** Hash of the input, so an identical repeat is recognised (and a different one refused). */
  inputHash: string;
}

/** The lifecycle tasks (src/provisioning/lifecycle-tasks.ts), one per action. */
export const LIFECYCLE_TASKS = {
  start: 'container.start',
  stop: 'container.stop',
  shutdown: 'container.shutdown',
  reboot: 'container.reboot',
  resize: 'container.resize',
  delete: 'container.delete',
} as const;
export type LifecycleAction = keyof typeof LIFECYCLE_TASKS;
