import type { EdgeSite, RegistrySnapshot } from './registry.js';

/** Where one service's entry sits in the rendered text (1-based lines), so an nginx -t error can name it. */
export interface RenderedEntry {
  serviceId: number;
  firstLine: number;
  lastLine: number;
  /** false when the service is left out (its container is stopped, deleted or has no address): only a comment says why. */
  included: boolean;
}

export interface RenderedConfig {
  body: string;
  entries: RenderedEntry[];
}

/** Stub (issue 14): renders the complete nginx.conf. */
export function renderEdgeConfig(_snapshot: RegistrySnapshot, _site: EdgeSite): RenderedConfig {
  throw new Error('not built yet');
}
