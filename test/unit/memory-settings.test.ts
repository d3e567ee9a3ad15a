// The web server's memory settings (docs/benchmarks.md: without them RSS reached 240–290 MiB under list
// traffic, heap after a full GC flat at ~35 MiB): `npm start` and the systemd unit must both run
// dist/server.js with them, and with the same values, so a deployment measures what the benchmark measured.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/lib/paths.js';

const read = (file: string) => fs.readFileSync(path.join(projectRoot, file), 'utf8');

/** Environment assignments and node flags of `[VAR=value …] node [flags…] dist/server.js`. */
function parseCommand(command: string): { env: Record<string, string>; flags: string[] } {
  const words = command.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0] && /^[A-Z_]+=/.test(words[0])) {
    const [key, value] = words.shift()!.split('=') as [string, string];
    env[key] = value;
  }
  expect(path.basename(words.shift() ?? '')).to.equal('node');
  expect(words.at(-1)).to.equal('dist/server.js');
  return { env, flags: words.slice(0, -1) };
}

describe('the web server memory settings (npm start, systemd/berth.service)', () => {
  const start = parseCommand((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!);
  const unit = read('systemd/berth.service');
  const service = parseCommand(/^ExecStart=(.+)$/m.exec(unit)![1]!);
  for (const [, assignment] of unit.matchAll(/^Environment=(\S+)$/gm)) {
    const [key, value] = assignment!.split('=') as [string, string];
    service.env[key] = value;
  }

  it('npm start limits malloc arenas and the V8 old generation', () => {
    expect(start.env.MALLOC_ARENA_MAX).to.equal('2');
    expect(start.flags).to.include('--max-old-space-size=512');
  });

  it('the systemd unit runs the server with the same settings as npm start', () => {
    expect(service.flags).to.deep.equal(start.flags);
    expect(service.env.MALLOC_ARENA_MAX).to.equal(start.env.MALLOC_ARENA_MAX);
  });
});
