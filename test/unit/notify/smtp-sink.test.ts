import { expect } from 'chai';
import nodemailer from 'nodemailer';
import { startSmtpServer } from '../../support/smtp.js';

// The test SMTP server (a child process) that the outbox tests rely on: its TLS, auth and fault
// modes must behave as a real server's would, or those tests prove nothing.
describe('the test SMTP server process', () => {
  const mail = (subject: string) => ({ from: 'berth@localhost', to: 'someone@example.org', subject, text: 'hello' });

  it('requires STARTTLS and AUTH when asked, and refuses a wrong password', async () => {
    const smtp = await startSmtpServer({ tls: 'starttls', auth: { user: 'berth', pass: 's3cret' } });
    try {
      const base = { host: '127.0.0.1', port: smtp.port, requireTLS: true, tls: { ca: smtp.certificates!.caCert } };
      const good = nodemailer.createTransport({ ...base, auth: { user: 'berth', pass: 's3cret' } });
      await good.sendMail(mail('over tls'));
      const got = await smtp.waitFor((m) => m.subject === 'over tls');
      expect(got.secure).to.equal(true);
      expect(got.user).to.equal('berth');
      const bad = nodemailer.createTransport({ ...base, auth: { user: 'berth', pass: 'wrong' } });
      const err = await bad.sendMail(mail('bad password')).catch((e: Error & { responseCode?: number }) => e);
      expect((err as { responseCode?: number }).responseCode).to.equal(535);
      const plain = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, ignoreTLS: true, auth: { user: 'berth', pass: 's3cret' } });
      expect(await plain.sendMail(mail('plain')).then(() => 'sent', () => 'refused')).to.equal('refused');
      expect(smtp.messages.map((m) => m.subject)).to.deep.equal(['over tls']);
      for (const t of [good, bad, plain]) t.close();
    } finally {
      await smtp.close();
    }
  });

  it('refuses, hangs, drops the connection and stops listening on command', async () => {
    const smtp = await startSmtpServer({ fault: { kind: 'refuse', code: 450, times: 1 } });
    try {
      const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, ignoreTLS: true, socketTimeout: 500 });
      const first = await transport().sendMail(mail('one')).catch((e: { responseCode?: number }) => e);
      expect((first as { responseCode?: number }).responseCode).to.equal(450);
      await transport().sendMail(mail('one'));
      await smtp.setFault({ kind: 'hang', times: 1 });
      expect(await transport().sendMail(mail('hung')).then(() => 'sent', (e: { code?: string }) => e.code)).to.equal('ETIMEDOUT');
      await smtp.setFault({ kind: 'close', times: 1 });
      expect(await transport().sendMail(mail('dropped')).then(() => 'sent', () => 'failed')).to.equal('failed');
      await smtp.stopListening();
      expect(await transport().sendMail(mail('refused')).then(() => 'sent', (e: { code?: string }) => e.code)).to.equal('ESOCKET');
      await smtp.listen();
      await transport().sendMail(mail('back'));
      expect(smtp.messages.map((m) => m.subject)).to.deep.equal(['one', 'back']);
      expect(smtp.rejections.map((r) => r.stage)).to.deep.equal(['rcpt', 'hang', 'close']);
    } finally {
      await smtp.close();
    }
  });
});
