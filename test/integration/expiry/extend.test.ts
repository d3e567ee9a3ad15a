import { expect } from 'chai';
import crypto from 'node:crypto';
import type { Container } from '../../../models/index.js';
import { addDays, scanDay } from '../../../src/expiry/clock.js';
import { extendFromPage, LinkGoneError, redeemExtendLink } from '../../../src/expiry/extend.js';
import { issueExtendLink } from '../../../src/expiry/extend-link.js';
import { ConflictError, NotFoundError } from '../../../src/lib/errors.js';
import type { CommandContext } from '../../../src/services/context.js';
import { createContainer, createVm } from '../../factories/inventory.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { testCommand } from '../../support/command.js';
import { testContext } from '../../support/context.js';

// Redeeming a reminder's extend link and extending from the Expiries page, at a chosen moment
// (`now`): 11:30 in Asia/Kolkata (the test config's TZ) on 2027-03-10.
const NOW = new Date('2027-03-10T06:00:00Z');
const TODAY = '2027-03-10';

describe('expiry extend: links and the page', () => {
  /** A command acting as `username` (the signed-in user). */
  const as = (user: { id: number; username: string; role?: string }): CommandContext =>
    testCommand({ actor: { username: user.username }, user: { id: user.id, username: user.username, isAdmin: user.role === 'admin' } });

  /** A link for `username` on `item`, issued at `at`, and its token. */
  async function linkFor(itemType: 'container' | 'vm', item: { id: number; expiresAt: string | null }, username: string, at = NOW): Promise<string> {
    const url = await testContext().db.sequelize.transaction((t) =>
      issueExtendLink({ models: testContext().db.models, config: testContext().config }, { itemType, itemId: item.id, username, expiresOn: item.expiresAt! }, at, t),
    );
    return new URL(url).searchParams.get('token')!;
  }

  const expiryOf = async (ct: Container) => (await testContext().db.models.Container.findByPk(ct.id))!.expiresAt;
  const extendEvents = (itemType: string, id: number) => testContext().db.models.AuditEvent.findAll({ where: { action: `${itemType}.extend`, objectId: String(id) } });

  it('uses the test config the rules assume (TZ, step and maximum)', () => {
    expect(testContext().config.TZ).to.equal('Asia/Kolkata');
    expect(scanDay(NOW, testContext().config.TZ)).to.equal(TODAY);
    expect(testContext().config.EXPIRY_EXTEND_DAYS).to.equal(30);
    expect(testContext().config.CONTAINER_EXPIRY_MAX_DAYS).to.equal(365);
  });

  it('extends a container by EXPIRY_EXTEND_DAYS from its expiry, once, audited with before and after', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-15' });
    const token = await linkFor('container', ct, user.username);
    const result = await redeemExtendLink(as(user), token, NOW);
    expect(result).to.include({ itemType: 'container', itemId: ct.id, from: '2027-03-15', to: '2027-04-14', maximum: addDays(TODAY, 365) });
    expect(await expiryOf(ct)).to.equal('2027-04-14');
    const [event, ...more] = await extendEvents('container', ct.id);
    expect(more).to.have.length(0);
    expect(event!.actor).to.equal(user.username);
    expect(JSON.parse(event!.changes!)).to.deep.equal({ expiresAt: { before: '2027-03-15', after: '2027-04-14' } });
    const link = await testContext().db.models.ExtendLink.findOne({ where: { itemType: 'container', itemId: ct.id } });
    expect(link!.usedAt!.toISOString()).to.equal(NOW.toISOString());
  });

  it('extends a VM the same way (vm.extend)', async () => {
    const { user } = await createUser();
    const vm = await createVm({ username: user.username, expiresAt: '2027-03-11' });
    const result = await redeemExtendLink(as(user), await linkFor('vm', vm, user.username), NOW);
    expect(result.to).to.equal('2027-04-10');
    expect((await testContext().db.models.VirtualMachine.findByPk(vm.id))!.expiresAt).to.equal('2027-04-10');
    expect(await extendEvents('vm', vm.id)).to.have.length(1);
  });

  it('extends an already expired item from today, not from its old date', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-01' });
    const result = await redeemExtendLink(as(user), await linkFor('container', ct, user.username), NOW);
    expect(result.to).to.equal(addDays(TODAY, 30));
  });

  it('never goes past today + CONTAINER_EXPIRY_MAX_DAYS, and at the maximum changes nothing (the link stays usable)', async () => {
    const { user } = await createUser();
    const near = await createContainer({ username: user.username, expiresAt: addDays(TODAY, 350) });
    expect((await redeemExtendLink(as(user), await linkFor('container', near, user.username), NOW)).to).to.equal(addDays(TODAY, 365));

    const atMax = await createContainer({ username: user.username, expiresAt: addDays(TODAY, 365) });
    const token = await linkFor('container', atMax, user.username);
    const refusal = await redeemExtendLink(as(user), token, NOW).catch((e: unknown) => e);
    expect(refusal).to.be.instanceOf(ConflictError);
    expect((refusal as Error).message).to.contain('the furthest allowed');
    expect(await expiryOf(atMax)).to.equal(addDays(TODAY, 365));
    expect(await extendEvents('container', atMax.id)).to.have.length(0);
    // Refused for the maximum, not spent: a day later there is room again.
    const nextDay = new Date(NOW.getTime() + 86_400_000);
    expect((await redeemExtendLink(as(user), token, nextDay)).to).to.equal(addDays(TODAY, 366));
  });

  it('refuses a forged or malformed token with 404 and changes nothing', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-15' });
    await linkFor('container', ct, user.username);
    for (const token of [crypto.randomBytes(32).toString('base64url'), 'abc', '', '../../etc/passwd']) {
      const refusal = await redeemExtendLink(as(user), token, NOW).catch((e: unknown) => e);
      expect(refusal, token).to.be.instanceOf(NotFoundError);
    }
    expect(await expiryOf(ct)).to.equal('2027-03-15');
  });

  it('lets exactly one of two concurrent redemptions of a link extend', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-15' });
    const token = await linkFor('container', ct, user.username);
    const outcomes = await Promise.allSettled([redeemExtendLink(as(user), token, NOW), redeemExtendLink(as(user), token, NOW)]);
    const done = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(done).to.have.length(1);
    expect(refused).to.have.length(1);
    expect(refused[0]!.reason).to.be.instanceOf(LinkGoneError);
    expect(await expiryOf(ct)).to.equal('2027-04-14');
    expect(await extendEvents('container', ct.id)).to.have.length(1);
  });

  it('refuses a reused link with 410, saying it was used', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-15' });
    const token = await linkFor('container', ct, user.username);
    await redeemExtendLink(as(user), token, NOW);
    const refusal = await redeemExtendLink(as(user), token, NOW).catch((e: unknown) => e);
    expect(refusal).to.be.instanceOf(LinkGoneError);
    expect((refusal as LinkGoneError).status).to.equal(410);
    expect((refusal as Error).message).to.contain('already used');
    expect(await expiryOf(ct)).to.equal('2027-04-14');
  });

  it('refuses an expired link (past validUntil) with 410 and changes nothing', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-15' });
    const token = await linkFor('container', ct, user.username);
    const later = new Date(NOW.getTime() + testContext().config.EXPIRY_LINK_DAYS * 86_400_000);
    const refusal = await redeemExtendLink(as(user), token, later).catch((e: unknown) => e);
    expect(refusal).to.be.instanceOf(LinkGoneError);
    expect((refusal as Error).message).to.contain('expired');
    expect(await expiryOf(ct)).to.equal('2027-03-15');
    // A moment earlier it still works (the item has expired by then: 30 days from that day).
    const justBefore = new Date(later.getTime() - 1000);
    expect((await redeemExtendLink(as(user), token, justBefore)).to).to.equal(addDays(scanDay(justBefore, testContext().config.TZ), 30));
  });

  it("refuses another user's link (an admin's too) with the forged-link 404, saying nothing about the item", async () => {
    const { user: owner } = await createUser();
    const { user: other } = await createUser();
    const { user: admin } = await createAdminUser();
    const ct = await createContainer({ username: owner.username, expiresAt: '2027-03-15', hostname: `secret-${crypto.randomBytes(3).toString('hex')}.example.org` });
    const token = await linkFor('container', ct, owner.username);
    const forged = (await redeemExtendLink(as(other), crypto.randomBytes(32).toString('base64url'), NOW).catch((e: unknown) => e)) as Error;
    for (const who of [other, admin]) {
      const refusal = (await redeemExtendLink(as(who), token, NOW).catch((e: unknown) => e)) as Error;
      expect(refusal).to.be.instanceOf(NotFoundError);
      expect(refusal.message).to.equal(forged.message);
      expect(refusal.message).not.to.contain(ct.hostname);
    }
    expect(await expiryOf(ct)).to.equal('2027-03-15');
    // Still the owner's to use.
    expect((await redeemExtendLink(as(owner), token, NOW)).to).to.equal('2027-04-14');
  });

  it('refuses a link whose item was deleted (404)', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-15' });
    const token = await linkFor('container', ct, user.username);
    await ct.destroy();
    const refusal = await redeemExtendLink(as(user), token, NOW).catch((e: unknown) => e);
    expect(refusal).to.be.instanceOf(NotFoundError);
  });

  it('refuses a link whose item was handed to another owner since (404)', async () => {
    const { user } = await createUser();
    const { user: heir } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-15' });
    const token = await linkFor('container', ct, user.username);
    await ct.update({ username: heir.username });
    const refusal = await redeemExtendLink(as(user), token, NOW).catch((e: unknown) => e);
    expect(refusal).to.be.instanceOf(NotFoundError);
    expect(await expiryOf(ct)).to.equal('2027-03-15');
  });

  it('refuses a link whose expiry date changed since it was sent (409) and changes nothing', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-15' });
    const token = await linkFor('container', ct, user.username);
    await ct.update({ expiresAt: '2027-05-01' });
    const refusal = await redeemExtendLink(as(user), token, NOW).catch((e: unknown) => e);
    expect(refusal).to.be.instanceOf(ConflictError);
    expect((refusal as Error).message).to.contain('changed since this link was sent');
    expect(await expiryOf(ct)).to.equal('2027-05-01');
    expect(await extendEvents('container', ct.id)).to.have.length(0);
  });

  it('extends from the page by the same rule, for the owner; anyone else gets 404', async () => {
    const { user: owner } = await createUser();
    const { user: other } = await createUser();
    const ct = await createContainer({ username: owner.username, expiresAt: '2027-03-15' });
    const mine = (o: string | null) => o === owner.username;
    const result = await extendFromPage(as(owner), { itemType: 'container', itemId: ct.id }, mine, NOW);
    expect(result).to.include({ from: '2027-03-15', to: '2027-04-14' });
    const refusal = await extendFromPage(as(other), { itemType: 'container', itemId: ct.id }, (o) => o === other.username, NOW).catch((e: unknown) => e);
    expect(refusal).to.be.instanceOf(NotFoundError);
    const missing = await extendFromPage(as(owner), { itemType: 'container', itemId: 2_000_000_000 }, mine, NOW).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(NotFoundError);
    expect((refusal as Error).message).to.equal((missing as Error).message);
    expect(await expiryOf(ct)).to.equal('2027-04-14');
    expect(await extendEvents('container', ct.id)).to.have.length(1);
  });

  it('lets only one of two concurrent page extensions of the same date apply', async () => {
    const { user } = await createUser();
    const ct = await createContainer({ username: user.username, expiresAt: '2027-03-15' });
    const mine = (o: string | null) => o === user.username;
    const outcomes = await Promise.allSettled([0, 1].map(() => extendFromPage(as(user), { itemType: 'container', itemId: ct.id }, mine, NOW)));
    // Both may succeed one after the other (the second from the first's new date), never both from the old one.
    const froms = outcomes.filter((o): o is PromiseFulfilledResult<Awaited<ReturnType<typeof extendFromPage>>> => o.status === 'fulfilled').map((o) => o.value.from);
    expect(new Set(froms).size).to.equal(froms.length);
    const events = await extendEvents('container', ct.id);
    expect(events).to.have.length(froms.length);
    expect(await expiryOf(ct)).to.equal(addDays('2027-03-15', 30 * froms.length));
  });
});
