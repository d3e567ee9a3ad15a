// Berth's field rules where they lean on Zod's formats, and the edges where Berth decides otherwise.
import { expect } from 'chai';
import { z } from 'zod';
import { checkbox, hostname, ipv4, isoDate, isTicked, LOCAL_LOGIN_NAME, localUsername, mac, PROXMOX_USER_NAME, username } from '../../../src/lib/validators.js';

const messages = (schema: z.ZodType, value: unknown) => {
  const r = schema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => i.message);
};

describe('lib/validators: field rules', () => {
  it('IPv4: z.ipv4() plus trimming; no leading zeros, no out-of-range octets, Berth\'s message', () => {
    expect(ipv4.parse(' 10.0.0.12 ')).to.equal('10.0.0.12');
    expect(ipv4.parse('0.0.0.0')).to.equal('0.0.0.0');
    for (const bad of ['010.0.0.1', '10.0.0.01', '256.1.1.1', '1.2.3', '1.2.3.4.5']) expect(messages(ipv4, bad), bad).to.deep.equal(['Enter an IPv4 address such as 10.0.0.12.']);
  });

  it('MAC: ":" or "-" separators (z.mac() takes only one), stored lower-case with ":"', () => {
    expect(mac.parse(' BC-24-11-AA-BB-CC ')).to.equal('bc:24:11:aa:bb:cc');
    expect(mac.parse('bc:24-11:aa:bb:cc')).to.equal('bc:24:11:aa:bb:cc');
    expect(z.mac().safeParse('BC-24-11-AA-BB-CC').success, 'the library alone refuses "-"').to.equal(false);
    for (const bad of ['bc2411aabbcc', 'bc:24:11:aa:bb', 'bc.24.11.aa.bb.cc']) expect(messages(mac, bad), bad).to.deep.equal(['Enter a MAC address such as bc:24:11:aa:bb:cc.']);
  });

  it('host names: z.hostname() accepts a trailing dot, Berth refuses it (one host, two unique names)', () => {
    expect(z.hostname().safeParse('web.example.org.').success).to.equal(true);
    expect(messages(hostname, 'web.example.org.')).to.have.length(1);
    expect(hostname.parse(' Web-01.Example.ORG ')).to.equal('web-01.example.org');
    for (const bad of ['-web.example.org', 'web-.example.org', 'a..b', 'web_01.example.org', `${'a'.repeat(64)}.org`]) expect(hostname.safeParse(bad).success, bad).to.equal(false);
    expect(messages(hostname, '')).to.deep.equal(['Enter a host name.']);
  });

  it('dates: z.iso.date() refuses days that do not exist, with Berth\'s message', () => {
    expect(isoDate.parse(' 2024-02-29 ')).to.equal('2024-02-29');
    for (const bad of ['2026-02-30', '2025-02-29', '2026-13-01', '2026-1-01', '31.03.2027']) expect(messages(isoDate, bad), bad).to.deep.equal(['Enter a date as YYYY-MM-DD, e.g. 2027-03-31.']);
  });

  it('local usernames: 2–64 characters, lower-cased, no @ (a realm marks a Proxmox account)', () => {
    expect(localUsername.parse(' Alice.Smith ')).to.equal('alice.smith');
    expect(localUsername.parse('ab')).to.equal('ab');
    expect(localUsername.parse('a'.repeat(64))).to.equal('a'.repeat(64));
    for (const bad of ['a', 'a'.repeat(65), '-alice', 'alice@pve', 'al ice']) expect(localUsername.safeParse(bad).success, bad).to.equal(false);
  });

  it('owner names: a local name or a Proxmox user@realm, case kept', () => {
    expect(username.parse('Alice@pve')).to.equal('Alice@pve');
    expect(username.parse('bob')).to.equal('bob');
    for (const bad of ['a b', '@pve', 'alice@', 'x'.repeat(192)]) expect(username.safeParse(bad).success, bad).to.equal(false);
  });

  it('owner names: the realm after @ follows the Proxmox realm rule, as a login does', () => {
    expect(username.parse('alice@ldap-corp')).to.equal('alice@ldap-corp');
    for (const bad of ['alice@1pve', 'alice@p', `alice@${'r'.repeat(33)}`, 'a@b@pve']) expect(username.safeParse(bad).success, bad).to.equal(false);
  });

  it('login names: existing local accounts keep any case and one character; Proxmox names are looser', () => {
    for (const ok of ['a', 'Alice', 'ALICE.Smith_2', 'x'.repeat(64)]) expect(LOCAL_LOGIN_NAME.test(ok), ok).to.equal(true);
    for (const bad of ['', '-a', 'a b', 'alice@pve', 'x'.repeat(65)]) expect(LOCAL_LOGIN_NAME.test(bad), bad).to.equal(false);
    for (const ok of ['root', 'John+Doe', 'a'.repeat(64)]) expect(PROXMOX_USER_NAME.test(ok), ok).to.equal(true);
    for (const bad of ['', 'a b', 'a@b', 'a:b', 'a/b', 'a\\b', 'a'.repeat(65)]) expect(PROXMOX_USER_NAME.test(bad), bad).to.equal(false);
  });
});

describe('lib/validators: checkboxes and yes/no values', () => {
  const box = checkbox('Tick or untick.');
  const parse = (x: unknown) => box.parse(x);

  it('reads ticked and unticked values, JSON booleans, and the last of a repeated field', () => {
    for (const on of ['1', 'true', 'on', 'yes', true, ['0', '1']]) expect(parse(on), String(on)).to.equal(true);
    for (const off of ['0', 'false', 'off', 'no', false, '', ' ', undefined, ['1', '0']]) expect(parse(off), String(off)).to.equal(false);
  });

  it('absent means what the caller says; an unknown value is refused with the caller\'s message', () => {
    expect(checkbox('x', true).parse(undefined)).to.equal(true);
    expect(checkbox('x', true).parse('0')).to.equal(false);
    for (const bad of ['maybe', 'ON', 'True', 2, null, {}]) expect(messages(box, bad), String(bad)).to.deep.equal(['Tick or untick.']);
  });

  it('isTicked: the same ticked values; anything else is unticked, never an error', () => {
    for (const on of ['1', 'true', 'on', 'yes', true, ['0', 'yes']]) expect(isTicked(on), String(on)).to.equal(true);
    for (const off of ['0', 'no', 'maybe', 'ON', '', undefined, null, 1, ['yes', '0']]) expect(isTicked(off), String(off)).to.equal(false);
  });
});
