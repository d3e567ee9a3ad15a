// Errors raised by simulator handlers, shaped like PVE::Exception: a status, a message that
// becomes both the reason phrase (first line) and the body's `message`, and an optional errors map.

export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message.endsWith('\n') ? message : `${message}\n`);
  }
}

/** A plain `die` in a Proxmox handler: 500 with the message. */
export function die(message: string): SimHttpError {
  return new SimHttpError(500, message);
}

/** raise_param_exc: 400 "Parameter verification failed." with per-parameter messages. */
export function paramError(errors: Record<string, string>): SimHttpError {
  return new SimHttpError(400, 'Parameter verification failed.\n', errors);
}

/** raise_perm_exc: 403 naming the path and privilege(s). */
export function permError(what?: string): SimHttpError {
  return new SimHttpError(403, what ? `Permission check failed (${what})\n` : 'Permission check failed\n');
}

/** The message of a missing container or VM config. */
export function noConfig(node: string, vmid: number, type: 'lxc' | 'qemu'): SimHttpError {
  const dir = type === 'lxc' ? 'lxc' : 'qemu-server';
  return die(`Configuration file 'nodes/${node}/${dir}/${vmid}.conf' does not exist`);
}
