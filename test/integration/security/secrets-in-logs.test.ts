// Issue 10: a set-password token reached the request log (`GET /set-password?token=…`) and was
// replayed from it to take over the account. Every logged URL has its secret query parameters
// blanked, on every route, and a set-password link works exactly once.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { REDACTED } from '../../../src/lib/logger.js';
import { issuePasswordLink, setPasswordFromLink, userForPasswordToken } from '../../../src/services/passwordLinks.js';
import { createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';
import { csrfFrom, login } from '../../support/login.js';

const secret = () => `S3CRET${crypto.randomBytes(12).toString('hex')}`;

describe('security: no secret reaches the request log', () => {
  const fixture = useApp();
  /** Every log line written since `from`, as one string (whatever field a secret might hide in). */
  const logText = (from: number) => fixture.logs.slice(from).map((l) => JSON.stringify(l)).join('\n');
  const urlsLogged = (from: number) => fixture.logs.slice(from).map((l) => l.req?.url).filter((u): u is string => typeof u === 'string');

  it('blanks ?token= on the set-password page, so the log holds nothing to replay', async () => {
    const { user } = await createUser();
    await user.update({ passwordHash: null });
    const link = await issuePasswordLink(fixture.config, user);
    const token = new URL(link).searchParams.get('token')!;
    const from = fixture.logs.length;

    // The victim opens the emailed link.
    const victim = request.agent(fixture.app);
    await victim.get(`/set-password?token=${encodeURIComponent(token)}`).expect(200);

    expect(logText(from)).not.to.include(token);
    expect(urlsLogged(from)).to.include(`/set-password?token=${REDACTED}`);

    // The attacker reads the log and replays whatever it holds after token=: nothing that opens the link.
    const fromLog = /\/set-password\?token=([^"&\s]*)/.exec(logText(from))![1];
    expect(fromLog).to.equal(REDACTED);
    const attacker = request.agent(fixture.app);
    const page = await attacker.get(`/set-password?token=${encodeURIComponent(fromLog)}`).expect(404);
    await attacker.post('/set-password').type('form').send({ token: fromLog, newPassword: 'attacker-password-1', confirmPassword: 'attacker-password-1', _csrf: csrfFrom(page.text) }).expect(404);
    await user.reload();
    expect(user.passwordHash, 'the attacker set no password').to.equal(null);
    expect(user.passwordSetupHash, 'the link is still open for its owner').to.be.a('string');
  });

  it('blanks every sensitive parameter on any route, also inside a URL passed as ?next=, and keeps the rest', async () => {
    const values = Array.from({ length: 8 }, secret);
    const from = fixture.logs.length;
    const agent = request.agent(fixture.app);
    await agent.get(`/login?next=${encodeURIComponent(`/set-password?token=${values[0]}`)}`).expect(200);
    await agent.get(`/containers?q=visible-term&apiKey=${values[1]}`).set('Accept', 'application/json').expect(401);
    await agent.get(`/no-such-page?password=${values[2]}&code=${values[3]}&state=${values[4]}`).expect(404);
    // Encoded names and array forms are the same parameter to the app, so they are blanked too.
    await agent.get(`/login?tok%65n=${values[5]}&ticket[]=${values[6]}&access_token=${values[7]}`).expect(200);

    const text = logText(from);
    for (const v of values) expect(text).not.to.include(v);
    const urls = urlsLogged(from);
    expect(urls).to.include(`/login?next=${encodeURIComponent('/set-password?token=')}[redacted]`);
    expect(urls).to.include(`/containers?q=visible-term&apiKey=${REDACTED}`);
    expect(urls).to.include(`/no-such-page?password=${REDACTED}&code=${REDACTED}&state=${REDACTED}`);
    expect(urls).to.include(`/login?tok%65n=${REDACTED}&ticket[]=${REDACTED}&access_token=${REDACTED}`);
    // The error handler's own line ("request rejected") carries the same blanked URL.
    const rejected = fixture.logs.slice(from).find((l) => l.msg === 'request rejected' && String(l.req?.url).startsWith('/no-such-page'));
    expect(rejected?.req.url).to.equal(`/no-such-page?password=${REDACTED}&code=${REDACTED}&state=${REDACTED}`);
  });
});

describe('security: a set-password link works once', () => {
  const fixture = useApp();

  it('refuses a used link, page and form, and keeps the password its owner chose', async () => {
    const { user } = await createUser();
    const link = await issuePasswordLink(fixture.config, user);
    const token = new URL(link).searchParams.get('token')!;
    const owner = request.agent(fixture.app);
    const page = await owner.get(`/set-password?token=${encodeURIComponent(token)}`).expect(200);
    await owner.post('/set-password').type('form').send({ token, newPassword: 'owner-chose-this-1', confirmPassword: 'owner-chose-this-1', _csrf: csrfFrom(page.text) }).expect(303);

    // The token leaks later (a forwarded mail, browser history): it opens nothing.
    const attacker = request.agent(fixture.app);
    const again = await attacker.get(`/set-password?token=${encodeURIComponent(token)}`).expect(404);
    expect(again.text).to.include('was already used');
    const replay = await attacker.post('/set-password').set('Accept', 'application/json').set('X-CSRF-Token', csrfFrom(again.text))
      .send({ token, newPassword: 'attacker-password-1', confirmPassword: 'attacker-password-1' }).expect(404);
    expect(replay.body.error).to.include('was already used');
    await login(request.agent(fixture.app), user.username, 'owner-chose-this-1');
  });

  it('lets exactly one of two requests racing with the same link set the password', async () => {
    const { models } = testContext().db;
    const { user } = await createUser();
    const link = await issuePasswordLink(fixture.config, user);
    const token = new URL(link).searchParams.get('token')!;
    // Both requests looked the link up before either wrote: each holds a user that still has it open.
    const first = (await userForPasswordToken(models, fixture.config, token))!;
    const second = (await userForPasswordToken(models, fixture.config, token))!;
    const cmd = testCommand({ config: fixture.config });
    await setPasswordFromLink(cmd, first, 'first-password-long');
    let refused: unknown;
    await setPasswordFromLink(cmd, second, 'second-password-long').catch((err) => (refused = err));
    expect((refused as Error | undefined)?.message).to.include('was already used');
    await login(request.agent(fixture.app), user.username, 'first-password-long');
  });
});
