// QEMU VMs: reads for the inventory and sync (IPs come from the guest agent), and power.
import type { Proxmox } from 'proxmox-api';
import { CONFIG_NUMBERS, MACHINE_NUMBERS } from './containers.js';
import { normalizeInterfaces, primaryIpv4 } from './interfaces.js';
import { coerceNumbers } from './numbers.js';
import { macFromNet } from './property-string.js';
import type { MachineConfig, MachineInterface, MachineStatus, MachineSummary } from './types.js';

/** VM reads and power. Reached as `client.vms`. */
export class VmApi {
  constructor(private readonly api: Proxmox.Api) {}

  /** `GET /nodes/{node}/qemu`. */
  async list(node: string): Promise<MachineSummary[]> {
    const rows = (await this.api.nodes.$(node).qemu.$get()) as Record<string, unknown>[];
    return rows.map((r) => coerceNumbers(r, MACHINE_NUMBERS) as MachineSummary);
  }

  /** `GET .../qemu/{vmid}/config` (`memory` may arrive as a string; it is a number here). */
  async config(node: string, vmid: number): Promise<MachineConfig> {
    const cfg = (await this.api.nodes.$(node).qemu.$(vmid).config.$get()) as Record<string, unknown>;
    return coerceNumbers(cfg, CONFIG_NUMBERS) as MachineConfig;
  }

  /** `GET .../qemu/{vmid}/status/current`. */
  async status(node: string, vmid: number): Promise<MachineStatus> {
    const s = (await this.api.nodes.$(node).qemu.$(vmid).status.current.$get()) as Record<string, unknown>;
    return coerceNumbers(s, MACHINE_NUMBERS) as MachineStatus;
  }

  // QEMU checks no run state before forking, unlike LXC: start on a running VM fails inside the
  // task (`VM 100 already running`), stop or shutdown of a stopped VM ends OK.

  /** `POST .../qemu/{vmid}/status/start`: returns the `qmstart` UPID. */
  async start(node: string, vmid: number): Promise<string> {
    return (await this.api.nodes.$(node).qemu.$(vmid).status.start.$post()) as string;
  }

  /** `POST .../status/stop` (hard: QMP quit, then SIGTERM/SIGKILL): returns the `qmstop` UPID. */
  async stop(node: string, vmid: number, opts: { timeout?: number; overruleShutdown?: boolean } = {}): Promise<string> {
    const params = { timeout: opts.timeout, 'overrule-shutdown': opts.overruleShutdown };
    return (await this.api.nodes.$(node).qemu.$(vmid).status.stop.$post(params as any)) as string;
  }

  /**
   * `POST .../status/shutdown` (guest agent or ACPI): returns the `qmshutdown` UPID. Without
   * `forceStop` the task fails after `timeout` and the VM keeps running; with it the VM is killed.
   */
  async shutdown(node: string, vmid: number, opts: { timeout?: number; forceStop?: boolean } = {}): Promise<string> {
    return (await this.api.nodes.$(node).qemu.$(vmid).status.shutdown.$post(opts)) as string;
  }

  /** MAC of `net0` (the model key carries it: `virtio=BC:24:11:...`). */
  async mac(node: string, vmid: number): Promise<string | null> {
    const cfg = await this.config(node, vmid);
    return macFromNet(typeof cfg.net0 === 'string' ? cfg.net0 : undefined);
  }

  /**
   * Interfaces reported by the guest agent. Throws a ProxmoxError (500) when no agent is
   * configured, the VM is stopped or the agent is not running.
   */
  async interfaces(node: string, vmid: number): Promise<MachineInterface[]> {
    const res = (await this.api.nodes.$(node).qemu.$(vmid).agent['network-get-interfaces'].$get()) as { result?: unknown };
    return normalizeInterfaces(res?.result);
  }

  /** First non-loopback IPv4 from the agent, preferring the `net0` MAC. */
  async ipv4(node: string, vmid: number): Promise<string | null> {
    const [ifaces, mac] = await Promise.all([this.interfaces(node, vmid), this.mac(node, vmid)]);
    return primaryIpv4(ifaces, mac);
  }
}
