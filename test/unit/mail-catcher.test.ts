import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import nodemailer from 'nodemailer';
import { formatMail, parseMessage, startMailCatcher, type CaughtMail } from '../../src/dev/mail-catcher.js';
import { track } from '../support/resources.js';

describe('the demo mail catcher', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-mail-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decodes what nodemailer sends (UTF-8 subject, quoted-printable text, long links) and saves a private .eml', async () => {
    const caught: CaughtMail[] = [];
    let arrived: () => void = () => {};
    const got = new Promise<void>((resolve) => (arrived = resolve));
    const catcher = await startMailCatcher({ dir: path.join(dir, 'mail'), onMail: (m) => (caught.push(m), arrived()) });
    const close = track('mail catcher', () => catcher.close());
    try {
      const link = `http://127.0.0.1:3000/set-password?token=${'a1b2c3d4'.repeat(8)}`;
      const transport = nodemailer.createTransport({ host: catcher.host, port: catcher.port, secure: false, ignoreTLS: true });
      await transport.sendMail({
        from: 'Berth <berth@localhost>',
        to: 'zoë@example.org',
        subject: 'Your Berth account is ready – Zoë',
        text: `Hello Zoë,\n\nChoose your password with this link:\n\n${link}\n`,
        html: `<p>Hello Zoë,</p><p><a href="${link}">Choose your password</a></p>`,
      });
      transport.close();
      await got;
      const [mail] = caught;
      expect(mail.to).to.deep.equal(['zoë@example.org']);
      expect(mail.subject).to.equal('Your Berth account is ready – Zoë');
      expect(mail.text).to.include('Hello Zoë,').and.include(link);
      expect(fs.statSync(mail.file).mode & 0o777).to.equal(0o600);
      expect(fs.statSync(path.join(dir, 'mail')).mode & 0o777).to.equal(0o700);
      expect(parseMessage(fs.readFileSync(mail.file, 'utf8')).text).to.include(link);
      expect(formatMail(mail)).to.include('Subject: Your Berth account is ready – Zoë').and.include(link).and.include(mail.file);
    } finally {
      await close();
    }
  });

  it('reads a base64 HTML-only message, keeping each link next to its words', () => {
    const html = '<p>Review it at <a href="http://127.0.0.1:3000/account-requests">the requests page</a> &amp; decide.</p>';
    const raw = [
      'Subject: =?UTF-8?B?' + Buffer.from('Demande de compte – éé').toString('base64') + '?=',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(html).toString('base64'),
    ].join('\r\n');
    const parsed = parseMessage(raw);
    expect(parsed.subject).to.equal('Demande de compte – éé');
    expect(parsed.text).to.equal('Review it at the requests page (http://127.0.0.1:3000/account-requests) & decide.');
  });
});
