import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { projectRoot } from '../../src/lib/paths.js';
import { track } from '../support/resources.js';

describe('npm run demo', function () {
  this.timeout(60_000);

  it('starts Berth wired to the simulator, with a local admin who can log in', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-demo-'));
    const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/demo.ts'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    const untrack = track('demo process', async () => {
      proc.kill('SIGKILL');
      await exited;
    });
    try {
      const seen = { url: '', sim: '', password: '' };
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('demo did not start')), 45_000);
        readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
          seen.sim ||= /Proxmox VE simulator: (\S+)/.exec(line)?.[1] ?? '';
          seen.password ||= /local admin: admin \/ (\S+)/.exec(line)?.[1] ?? '';
          if (line.includes('Berth is listening')) seen.url = JSON.parse(line).url;
          if (seen.url) (clearTimeout(timer), resolve());
        });
      });
      expect(seen.sim).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const version = await request(seen.sim).get('/api2/json/version').expect(401);
      expect(version.text).to.equal('');
      const agent = request.agent(seen.url);
      const page = await agent.get('/login').expect(200);
      const token = /name="csrf-token" content="([^"]+)"/.exec(page.text)![1];
      await agent.post('/login').type('form').send({ username: 'admin', password: seen.password, _csrf: token }).expect(303);
      await agent.get('/').expect(200);

      // The simulator's nodes are registered and the demo's job runner runs a sync.
      const csrf = /name="csrf-token" content="([^"]+)"/.exec((await agent.get('/nodes').expect(200)).text)![1];
      const sync = await agent.post('/inventory/sync').set('Accept', 'application/json').set('X-CSRF-Token', csrf).expect(201);
      let status = 'pending';
      for (let i = 0; i < 150 && !['success', 'failure', 'cancelled'].includes(status); i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = (await agent.get(`/jobs/${sync.body.id}`).set('Accept', 'application/json').expect(200)).body.status;
      }
      expect(status).to.equal('success');
    } finally {
      proc.kill('SIGTERM');
      await exited;
      await untrack();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
