import { expect } from 'chai';
import { testContext } from '../../support/context.js';
import { startRunner } from '../../support/runner.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('job runner under faults', function () {
  this.timeout(60_000);

  it('a runner stopped while a heartbeat tick is under way never beats or recovers jobs again (it once failed a healthy job in CI)', async () => {
    const { models } = testContext().db;
    const runner = await startRunner({ heartbeatSeconds: 1, staleSeconds: 2 });
    const heartbeat = (runner as unknown as { heartbeat: { beat(n: number): Promise<void>; recoverStale(): Promise<number[]> } }).heartbeat;
    const beat = heartbeat.beat.bind(heartbeat);
    let release!: () => void;
    let beatsAfterStop = 0;
    let stopped = false;
    const entered = new Promise<void>((enter) => {
      let first = true;
      heartbeat.beat = async (n) => {
        if (stopped) beatsAfterStop++;
        if (first) {
          first = false;
          enter();
          await new Promise<void>((r) => (release = r));
        }
        return beat(n);
      };
    });
    await entered;
    const stopping = runner.close();
    await sleep(100);
    stopped = true;
    release();
    await stopping;
    // A job of a runner that looks dead: a stopped runner must leave it to the living.
    const old = new Date(Date.now() - 60_000);
    await models.JobRunner.create({ id: 'quiet-runner', hostname: 'elsewhere', pid: 1, concurrency: 1, startedAt: old, heartbeatAt: old });
    const id = (await models.Job.create({ command: 'true', status: 'running', lockedBy: 'quiet-runner', lockedAt: old, startedAt: old } as never)).id;
    await sleep(3000);
    expect(beatsAfterStop, 'heartbeats after stop').to.equal(0);
    expect(await models.JobRunner.count({ where: { id: runner.id } })).to.equal(0);
    expect((await models.Job.findByPk(id))!.status).to.equal('running');
    await models.Job.destroy({ where: { id } });
    await models.JobRunner.destroy({ where: { id: 'quiet-runner' } });
  });
});
