import { expect } from 'chai';
import { renderEmail } from '../../../src/lib/mail/index.js';

const item = (over: Record<string, unknown> = {}) => ({
  kind: 'container',
  name: 'web-<1>.example.org',
  url: 'https://berth.example.org/containers/7',
  expiresOn: '2027-03-08',
  daysLeft: 7,
  when: 'in 7 days',
  notice: '7d',
  extendUrl: 'https://berth.example.org/expiry/extend/tok&en',
  action: 'It will be stopped on 2027-03-09.',
  ...over,
});

describe('expiry reminder email', () => {
  it('lists every item with its link, date, days left, action and extend link; HTML escaped, text plain', async () => {
    const data = { publicUrl: 'https://berth.example.org', name: 'Ann "<b>"', username: 'ann', scanDay: '2027-03-01', extendDays: 30, linkDays: 14 };
    const { html, text } = await renderEmail('expiry-reminder', { ...data, items: [item(), item({ kind: 'VM', name: 'db', url: 'https://berth.example.org/vms/3', when: 'today', daysLeft: 0, notice: 'today' })] });
    expect(html).to.contain('Hello Ann &#34;&lt;b&gt;&#34;,').and.not.to.contain('<b>"');
    expect(html).to.contain('<a href="https://berth.example.org/containers/7">web-&lt;1&gt;.example.org</a>');
    expect(html).to.contain('<a href="https://berth.example.org/expiry/extend/tok&amp;en">Extend by 30 days</a>');
    expect(html).to.contain('2 of your machines').and.to.contain('Expires <strong>today</strong>').and.to.contain('It will be stopped on 2027-03-09.');
    expect(text).to.contain('Hello Ann "<b>",');
    expect(text).to.contain('* web-<1>.example.org (container): expires in 7 days, its last day is 2027-03-08.');
    expect(text).to.contain('Open it: https://berth.example.org/vms/3').and.to.contain('Extend by 30 days: https://berth.example.org/expiry/extend/tok&en');
    expect(text).to.contain('for 14 days');

    const one = await renderEmail('expiry-reminder', { ...data, items: [item()] });
    expect(one.text).to.contain('One of your machines in Berth is about to expire:');
  });
});
