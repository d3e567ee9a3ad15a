// PUT /nodes/{node}/lxc/{vmid}/resize: grow a container volume (README §9.1, pve-container
// API2/LXC.pm `resize_vm`). The checks run before the task starts (errors are synchronous 500s)
// and again when it ends, as the real worker repeats them under the config lock; the new `size=`
// is written into the config at the end of the `resize` task, which holds the config file lock
// meanwhile (config-lock.ts).
import { die } from '../errors.js';
import { int, str, who, type Ctx, type Handler, type SimCore } from '../core.js';
import { configFileBusy, holdConfigFile, releaseConfigFile } from '../config-lock.js';
import { checkLock } from '../guest-ops.js';
import { parseSize } from '../formats.js';
import { formatPropertyString, parsePropertyString } from '../property-string.js';
import { configDigest, type Guest } from '../state.js';

const UNITS: Array<[string, number]> = [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]];

/** pve-common `format_size`: the largest unit that divides the size exactly (`10G`, `8704M`, bytes bare). */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of UNITS) if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  return String(bytes);
}

interface ResizePlan {
  volume: Record<string, string>;
  newSize: number;
}

/**
 * `load_and_check`: lock, digest, the volume's owner and storage permission, then the size rule.
 * A size without unit is bytes (unlike create's `rootfs=local-lvm:8`, which is GiB).
 */
function loadAndCheck(core: SimCore, ctx: Ctx, g: Guest): ResizePlan {
  checkLock(g);
  const digest = str(ctx, 'digest');
  if (digest && digest !== configDigest(g.config)) throw die('detected modified configuration - file changed by other user? Try again.');
  const disk = str(ctx, 'disk')!;
  const volume = parsePropertyString(String(g.config[disk] ?? ''), { defaultKey: 'volume' });
  const volid = volume.volume ?? '';
  const m = /^([^:]+):(.+)$/.exec(volid);
  if (!m) throw die(`unable to parse volume ID '${volid}'`);
  const owner = /(?:^|\/)(?:vm|base|subvol)-(\d+)-/.exec(m[2])?.[1];
  // No trailing newline in the Perl source, so Perl appends where it died.
  if (owner && Number(owner) !== g.vmid) {
    throw die(`can't resize mount point owned by another container (${owner}) at /usr/share/perl5/PVE/API2/LXC.pm line 2217.`);
  }
  core.perms.require(who(ctx), `/storage/${m[1]}`, 'Datastore.AllocateSpace');
  const current = volume.size === undefined ? null : parseSize(volume.size);
  if (current === null) throw die(`Could not determine current size of volume '${volid}'`);
  const sizeText = str(ctx, 'size')!;
  const relative = sizeText.startsWith('+');
  const requested = parseSize(relative ? sizeText.slice(1) : sizeText);
  if (requested === null) throw die('invalid size string');
  const newSize = Math.trunc(relative ? current + requested : requested);
  if (newSize < current) throw die('unable to shrink disk size');
  if (newSize === current) throw die('disk is already at specified size');
  return { volume, newSize };
}

function resize(ctx: Ctx): unknown {
  const { core } = ctx;
  const g = core.state.guest(str(ctx, 'node')!, int(ctx, 'vmid')!, 'lxc');
  const disk = str(ctx, 'disk')!;
  const first = loadAndCheck(core, ctx, g);
  const spec = { node: g.node, type: 'resize', id: g.vmid, principal: who(ctx) };
  // The worker first waits for the config file lock, which an earlier resize may hold too long.
  const busy = configFileBusy(core, g.vmid);
  if (busy) return core.tasks.start({ ...spec, lines: [], work: () => { throw die(busy); } });
  // Illustrative LVM and resize2fs lines; the words differ by storage type on a real node.
  const lv = `pve/${first.volume.volume.split(':').pop()}`;
  const blocks = Math.floor(first.newSize / 4096);
  let upid = '';
  upid = core.tasks.start({
    ...spec,
    lines: [
      `  Size of logical volume ${lv} changed to ${formatSize(first.newSize)}.`,
      `  Logical volume ${lv} successfully resized.`,
      'resize2fs 1.47.2 (1-Jan-2025)',
      `Resizing the filesystem on /dev/${lv} to ${blocks} (4k) blocks.`,
      `The filesystem on /dev/${lv} is now ${blocks} (4k) blocks long.`,
    ],
    work: () => {
      releaseConfigFile(core, g.vmid, upid);
      // The worker checks again under the lock: a change in the meantime fails the task.
      const plan = loadAndCheck(core, ctx, g);
      g.config[disk] = formatPropertyString({ ...plan.volume, size: formatSize(plan.newSize) }, { defaultKey: 'volume' });
    },
    onError: () => releaseConfigFile(core, g.vmid, upid),
  });
  holdConfigFile(core, g.vmid, upid);
  return upid;
}

export const lxcResizeHandlers: Record<string, Handler> = {
  'PUT /nodes/{node}/lxc/{vmid}/resize': resize,
};
