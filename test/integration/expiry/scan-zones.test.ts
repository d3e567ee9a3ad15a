import crypto from 'node:crypto';
import { expect } from 'chai';
import type { Container } from '../../../models/index.js';
import { runExpiryScan } from '../../../src/expiry/scan.js';
import { createContainer } from '../../factories/inventory.js';
import { createUser } from '../../factories/users.js';
import { expectedNotices, expiryConfig, farDay, logsOf, plusDays, remindersOnly, scanDeps, sunday, uniqueName } from './scan-support.js';

const rows = async (ids: number[]) => (await logsOf(ids.map((itemId) => ({ itemType: 'container' as const, itemId })))).map((l) => `#${l.itemId} ${l.notice} @${l.scanDay}`).sort();

describe('expiry scan: time zones', function () {
  this.timeout(120_000);
  before(remindersOnly);

  // Each zone's UTC offset written out, so the moments are built without the code under test.
  for (const [tz, offset] of [['Pacific/Kiritimati', '+14:00'], ['Pacific/Pago_Pago', '-11:00'], ['Asia/Kolkata', '+05:30']] as const) {
    it(`counts days in ${tz} (${offset}), around its midnight`, async () => {
      const deps = scanDeps(expiryConfig({ TZ: tz }));
      const day = farDay();
      const { user } = await createUser({ username: uniqueName('tz'), email: 'tz@example.org' });
      const ct = await createContainer({ username: user.username, expiresAt: day });
      // Half an hour before and after local midnight: the UTC date is another one in these zones.
      const before = await runExpiryScan(deps, { at: new Date(`${plusDays(day, -1)}T23:30:00${offset}`) });
      const after = await runExpiryScan(deps, { at: new Date(`${day}T00:30:00${offset}`) });
      expect([before.scanDay, after.scanDay]).to.deep.equal([plusDays(day, -1), day]);
      expect(await rows([ct.id])).to.deep.equal([`#${ct.id} 1d @${plusDays(day, -1)}`, `#${ct.id} today @${day}`]);
    });
  }

  // Daylight saving: Europe/Berlin (CET +01:00, CEST +02:00 from the last Sunday of March to the last
  // of October) and America/New_York (EST -05:00, EDT -04:00 from the second Sunday of March to the
  // first of November), in a random year far ahead.
  const year = 2400 + crypto.randomInt(0, 500);
  const switches = [
    { tz: 'Europe/Berlin', day: sunday(year, 3, -1), before: '+01:00', after: '+02:00' },
    { tz: 'Europe/Berlin', day: sunday(year, 10, -1), before: '+02:00', after: '+01:00' },
    { tz: 'America/New_York', day: sunday(year, 3, 2), before: '-05:00', after: '-04:00' },
    { tz: 'America/New_York', day: sunday(year, 11, 1), before: '-04:00', after: '-05:00' },
  ];
  for (const s of switches) {
    it(`scans each day at 08:00 in ${s.tz} across the switch of ${s.day}`, async () => {
      const deps = scanDeps(expiryConfig({ TZ: s.tz }));
      const first = plusDays(s.day, -8);
      const last = 16;
      const { user } = await createUser({ username: uniqueName('dst'), email: 'dst@example.org' });
      const offsets = [6, 7, 8, 9, 14];
      const items: Container[] = [];
      for (const o of offsets) items.push(await createContainer({ username: user.username, expiresAt: plusDays(first, o) }));
      for (let d = 0; d <= last; d++) {
        const day = plusDays(first, d);
        // 08:00 is after the 02:00/03:00 switch, so the switch day already has the new offset.
        const summary = await runExpiryScan(deps, { at: new Date(`${day}T08:00:00${day < s.day ? s.before : s.after}`) });
        expect(summary.scanDay).to.equal(day);
      }
      const expected = offsets.flatMap((o, i) => expectedNotices(o, last).map((n) => `#${items[i]!.id} ${n.notice} @${plusDays(first, n.scanOffset)}`));
      expect(await rows(items.map((i) => i.id))).to.deep.equal(expected.sort());
    });
  }
});
