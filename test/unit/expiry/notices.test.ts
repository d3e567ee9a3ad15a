import { expect } from 'chai';
import { applicableNotice, daysLeftInWords, dueNotice } from '../../../src/expiry/notices.js';

describe('expiry notices: which reminder is due', () => {
  it('applies 7d from 7 down to 2 days left, 1d the day before, today on the day, nothing otherwise', () => {
    const table = [8, 7, 6, 5, 4, 3, 2, 1, 0, -1].map((d) => [d, applicableNotice(d)]);
    expect(table).to.deep.equal([[8, null], [7, '7d'], [6, '7d'], [5, '7d'], [4, '7d'], [3, '7d'], [2, '7d'], [1, '1d'], [0, 'today'], [-1, null]]);
  });

  it('sends each notice once: nothing when it is logged', () => {
    expect(dueNotice(7, [])).to.equal('7d');
    expect(dueNotice(6, ['7d'])).to.equal(null);
    expect(dueNotice(1, ['7d'])).to.equal('1d');
    expect(dueNotice(1, ['7d', '1d'])).to.equal(null);
    expect(dueNotice(0, ['7d', '1d'])).to.equal('today');
    expect(dueNotice(0, ['today'])).to.equal(null);
  });

  it('catches up a missed 7-day notice, unless a later notice already applies or went out', () => {
    expect(dueNotice(3, []), 'first seen with 3 days left').to.equal('7d');
    expect(dueNotice(1, []), '7d missed, now the day before').to.equal('1d');
    expect(dueNotice(0, []), '1d missed: only today').to.equal('today');
    expect(dueNotice(4, ['1d']), 'a later notice covers it (clock moved back)').to.equal(null);
    expect(dueNotice(1, ['today'])).to.equal(null);
    expect(dueNotice(3, ['stopped'])).to.equal('7d');
  });

  it('says days left in words', () => {
    expect([0, 1, 5, -1, -3].map(daysLeftInWords)).to.deep.equal(['today', 'tomorrow', 'in 5 days', 'yesterday', '3 days ago']);
  });
});
