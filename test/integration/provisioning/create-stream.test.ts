// Create end to end as an API client sees it: POST /containers?init=true, then the job's live output
// over SSE while the simulator's tasks take their time, ending in a running container in the
// inventory (MAC and IP) and in Proxmox (with Berth's marker).
import crypto from 'node:crypto';
import { expect } from 'chai';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { serve } from '../../support/browser.js';
import { testContext } from '../../support/context.js';
import { csrfFrom } from '../../support/login.js';
import { loginCookie, readSse } from '../../support/sse-client.js';
import { startProvisioningWorld, type ProvisioningWorld } from './world.js';

describe('provisioning: a create followed live over SSE', function () {
  this.timeout(60_000);
  const fixture = useApp({ JOB_STREAM_POLL_MS: '50' });
  let w: ProvisioningWorld;
  beforeEach(async () => {
    w = await startProvisioningWorld();
    // Tasks that take a while, so the stream is read while the job is still running.
    w.s.sim.setTiming({ taskMs: 300, ipDelayMs: 300 });
  });
  afterEach(async () => {
    await w.cleanup();
  });

  it('streams the numbered steps and Proxmox\'s log, in order, then ends with success; the container is in both places', async () => {
    const site = await serve(fixture.app);
    try {
      const { user, password } = await createUser();
      const cookie = await loginCookie(site.url, user.username, password);
      const csrf = csrfFrom(await (await fetch(`${site.url}/containers/new`, { headers: { cookie } })).text());
      const hostname = `sse-${crypto.randomBytes(3).toString('hex')}.example.org`;
      const res = await fetch(`${site.url}/containers?init=true`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ hostname, osRelease: 'Debian 12', httpPort: 8080, aiContainer: 'N' }),
      });
      expect(res.status).to.equal(202);
      const { jobId, containerId, statusUrl } = (await res.json()) as { jobId: number; containerId: number; statusUrl: string };
      expect(statusUrl).to.equal(`/status/${jobId}`);

      const events: Array<{ event: string; data: { output?: string; status?: string } }> = [];
      await readSse(`${site.url}/api/stream/${jobId}`, { cookie }, (e) => void events.push({ event: e.event, data: JSON.parse(e.data) }));
      const text = events.filter((e) => e.event === 'output').map((e) => e.data.output).join('');
      const steps = [...text.matchAll(/^(\d)\/6 /gm)].map((m) => Number(m[1]));
      expect(steps).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(text).to.contain('extracting archive').and.to.contain('TASK OK');
      expect(events[events.length - 1]).to.deep.include({ event: 'end' });
      expect(events[events.length - 1].data.status).to.equal('success');

      const row = (await testContext().db.models.Container.findByPk(containerId))!;
      expect(row).to.include({ status: 'running', hostname, username: user.username, managed: true });
      expect(row.macAddress).to.match(/^bc:24:11(:[0-9a-f]{2}){3}$/);
      expect(row.ipv4Address).to.match(/^\d+\.\d+\.\d+\.\d+$/);
      const guest = w.s.sim.state.guests.get(row.vmid!)!;
      expect(String(guest.config.tags)).to.contain('berth');
      expect(String(guest.config.description)).to.contain(`Managed by Berth: container ${containerId},`);
      expect(String(guest.config.net0).toLowerCase()).to.contain(row.macAddress!);
    } finally {
      await site.close();
    }
  });
});
