import { expect } from 'chai';
import { addDays, daysBetween, localMinutes, localMoment, parseTimeOfDay, scanDay } from '../../../src/expiry/clock.js';

describe('expiry clock: days and times in the configured zone', () => {
  it('gives the calendar day in the zone, not in UTC or the process zone', () => {
    const at = new Date('2027-01-10T20:00:00Z');
    expect(scanDay(at, 'UTC')).to.equal('2027-01-10');
    // +14: already the next morning; -11: still the same day; Kolkata +05:30: 01:30 the next day.
    expect(scanDay(at, 'Pacific/Kiritimati')).to.equal('2027-01-11');
    expect(scanDay(at, 'Pacific/Pago_Pago')).to.equal('2027-01-10');
    expect(scanDay(at, 'Asia/Kolkata')).to.equal('2027-01-11');
    expect(localMinutes(at, 'Asia/Kolkata')).to.equal(90);
    expect(localMinutes(new Date('2027-01-10T18:29:00Z'), 'Asia/Kolkata')).to.equal(23 * 60 + 59);
    expect(scanDay(new Date('2027-01-10T18:29:59Z'), 'Asia/Kolkata')).to.equal('2027-01-10');
    expect(scanDay(new Date('2027-01-10T18:30:00Z'), 'Asia/Kolkata')).to.equal('2027-01-11');
  });

  it('counts calendar days across month, year and leap-day boundaries', () => {
    expect(daysBetween('2027-12-31', '2028-01-01')).to.equal(1);
    expect(daysBetween('2028-02-28', '2028-03-01')).to.equal(2);
    expect(daysBetween('2027-03-10', '2027-03-03')).to.equal(-7);
    expect(addDays('2028-02-28', 1)).to.equal('2028-02-29');
    expect(addDays('2027-01-01', -1)).to.equal('2026-12-31');
    // The DST switch days are whole days like any other.
    expect(daysBetween('2027-03-27', '2027-03-29')).to.equal(2);
    expect(addDays('2027-10-30', 2)).to.equal('2027-11-01');
  });

  it('finds the moment of a local time, on both sides of the daylight-saving switches', () => {
    // Europe/Berlin: CET +01:00, CEST +02:00 from 2027-03-28 02:00 to 2027-10-31 03:00.
    expect(localMoment('2027-03-27', '08:00', 'Europe/Berlin').toISOString()).to.equal('2027-03-27T07:00:00.000Z');
    expect(localMoment('2027-03-28', '08:00', 'Europe/Berlin').toISOString()).to.equal('2027-03-28T06:00:00.000Z');
    expect(localMoment('2027-10-30', '08:00', 'Europe/Berlin').toISOString()).to.equal('2027-10-30T06:00:00.000Z');
    expect(localMoment('2027-10-31', '08:00', 'Europe/Berlin').toISOString()).to.equal('2027-10-31T07:00:00.000Z');
    // America/New_York: EST -05:00, EDT -04:00 from 2027-03-14 to 2027-11-07.
    expect(localMoment('2027-03-14', '08:00', 'America/New_York').toISOString()).to.equal('2027-03-14T12:00:00.000Z');
    expect(localMoment('2027-11-07', '08:00', 'America/New_York').toISOString()).to.equal('2027-11-07T13:00:00.000Z');
    // A skipped time moves past the switch; a time shown twice is its first occurrence.
    expect(localMoment('2027-03-28', '02:30', 'Europe/Berlin').toISOString()).to.equal('2027-03-28T01:30:00.000Z');
    expect(localMoment('2027-10-31', '02:30', 'Europe/Berlin').toISOString()).to.equal('2027-10-31T00:30:00.000Z');
    expect(localMoment('2027-01-10', '00:00', 'Pacific/Kiritimati').toISOString()).to.equal('2027-01-09T10:00:00.000Z');
    expect(localMoment('2027-01-10', '23:59', 'Pacific/Pago_Pago').toISOString()).to.equal('2027-01-11T10:59:00.000Z');
    expect(localMoment('2027-01-10', '08:00', 'Asia/Kolkata').toISOString()).to.equal('2027-01-10T02:30:00.000Z');
  });

  it('round-trips every 08:00 of two years in DST zones (no day skipped or doubled)', () => {
    for (const tz of ['Europe/Berlin', 'America/New_York', 'Australia/Sydney']) {
      let day = '2027-01-01';
      for (let i = 0; i < 730; i++, day = addDays(day, 1)) {
        const at = localMoment(day, '08:00', tz);
        expect(scanDay(at, tz), `${tz} ${day}`).to.equal(day);
        expect(localMinutes(at, tz), `${tz} ${day}`).to.equal(480);
      }
    }
  });

  it('refuses malformed days and times', () => {
    expect(() => parseTimeOfDay('8:00')).to.throw(/HH:MM/);
    expect(() => parseTimeOfDay('24:00')).to.throw(/HH:MM/);
    expect(() => daysBetween('2027-1-1', '2027-01-02')).to.throw(/YYYY-MM-DD/);
  });
});
