/** What `npm run demo` (bin/demo.ts) reads from its environment; config/ is the only reader of process.env. */
export interface DemoSettings {
  /** DEMO_SIM_PORT: the simulator's port; 0 (the default) picks a free one. */
  simPort: number;
  /** DATA_DIR when set: where the demo keeps its database, logs and mail (default: data/demo). */
  dataDir: string | undefined;
  /**
   * The environment the demo's server and job runner start from (the demo then sets their database,
   * Proxmox URL, port and mail): a copy, so the children get what a child process normally gets.
   */
  childEnv: Record<string, string | undefined>;
}

/** Reads the demo's settings once, at its start. */
export function loadDemoSettings(env: NodeJS.ProcessEnv = process.env): DemoSettings {
  return { simPort: Number(env.DEMO_SIM_PORT ?? 0), dataDir: env.DATA_DIR, childEnv: { ...env } };
}
