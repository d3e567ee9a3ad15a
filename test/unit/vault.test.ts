import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Writable } from 'node:stream';
import { loadConfig } from '../../config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { buildRdpFile, rdpFilename } from '../../src/lib/rdp.js';
import { keyIdOf, parseKey, Vault, VaultError } from '../../src/lib/vault.js';
import { credentialInput } from '../../src/routes/credentials.schema.js';

const base64Key = () => crypto.randomBytes(32).toString('base64');
const vaultWith = (current: string, ...old: string[]) => Vault.fromConfig({ ENCRYPTION_KEY: current, ENCRYPTION_OLD_KEYS: old.join(',') });

/** Flips one character of part `index` of an envelope (v1:keyId:nonce:ciphertext:tag). */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split(':');
  const p = parts[index];
  parts[index] = (p[0] === 'A' ? 'B' : 'A') + p.slice(1);
  return parts.join(':');
}

describe('vault (AES-256-GCM envelopes)', () => {
  it('round-trips text, including empty and non-ASCII values, and names its key in the envelope', () => {
    const vault = vaultWith(base64Key());
    for (const plain of ['hunter2', '', 'pässwörd ✓ 密码', 'x'.repeat(4096)]) {
      const sealed = vault.seal(plain, 'credential-secret');
      expect(sealed).to.match(/^v1:[0-9a-f]{16}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]*:[A-Za-z0-9_-]{22}$/);
      expect(Vault.keyIdOfSealed(sealed)).to.equal(vault.keyId);
      expect(vault.needsRotation(sealed)).to.equal(false);
      expect(vault.open(sealed, 'credential-secret')).to.equal(plain);
    }
  });

  it('uses a new random nonce for every seal: the same plaintext never gives the same envelope', () => {
    const vault = vaultWith(base64Key());
    const sealed = Array.from({ length: 50 }, () => vault.seal('same secret', 'credential-secret'));
    expect(new Set(sealed).size).to.equal(50);
    expect(new Set(sealed.map((s) => s.split(':')[2])).size).to.equal(50);
  });

  it('refuses a tampered nonce, ciphertext or tag', () => {
    const vault = vaultWith(base64Key());
    const sealed = vault.seal('do not change me', 'credential-secret');
    for (const part of [2, 3, 4]) {
      expect(() => vault.open(tamper(sealed, part), 'credential-secret'), `part ${part}`).to.throw(VaultError, 'does not authenticate');
    }
    expect(() => vault.open('plaintext', 'credential-secret')).to.throw(VaultError, 'not a sealed value');
    expect(() => vault.open(sealed.replace(/^v1:/, 'v9:'), 'credential-secret')).to.throw(VaultError, 'not a sealed value');
  });

  it('binds the purpose: a node token cannot be opened as a credential', () => {
    const vault = vaultWith(base64Key());
    const sealed = vault.seal('token-secret', 'node-token');
    expect(() => vault.open(sealed, 'credential-secret')).to.throw(VaultError, 'does not authenticate');
    expect(vault.open(sealed, 'node-token')).to.equal('token-secret');
  });

  it('says which key is missing when a value was sealed with a key that is not configured', () => {
    const oldKey = base64Key();
    const sealed = vaultWith(oldKey).seal('s', 'credential-secret');
    const oldId = keyIdOf(parseKey(oldKey).key);
    const without = vaultWith(base64Key());
    expect(without.needsRotation(sealed)).to.equal(true);
    expect(() => without.open(sealed, 'credential-secret')).to.throw(VaultError, `sealed with key ${oldId}, which is not configured (add it to ENCRYPTION_OLD_KEYS)`);
    // With the old key listed, it opens again; the current key still seals.
    const withOld = vaultWith(base64Key(), oldKey);
    expect(withOld.open(sealed, 'credential-secret')).to.equal('s');
    expect(Vault.keyIdOfSealed(withOld.seal('t', 'credential-secret'))).to.equal(withOld.keyId).and.not.equal(oldId);
  });

  it('parses keys as base64 or hex, gives the same id for both, and refuses anything else', () => {
    const raw = crypto.randomBytes(32);
    const fromBase64 = parseKey(raw.toString('base64'));
    const fromHex = parseKey(` ${raw.toString('hex')}\n`);
    expect(fromBase64.key.equals(raw)).to.equal(true);
    expect(fromHex.id).to.equal(fromBase64.id).and.match(/^[0-9a-f]{16}$/);
    expect(parseKey(raw.toString('base64url')).key.equals(raw)).to.equal(true);
    // The id is not the key: it reveals none of its bytes.
    expect(raw.toString('hex')).not.to.contain(fromHex.id);
    for (const bad of ['', 'short', crypto.randomBytes(16).toString('base64'), crypto.randomBytes(31).toString('hex'), 'z'.repeat(64)]) {
      expect(() => parseKey(bad), JSON.stringify(bad)).to.throw(VaultError, 'openssl rand -base64 32');
    }
    expect(() => vaultWith(base64Key(), 'not-a-key')).to.throw(VaultError);
  });

  it('reads ENCRYPTION_KEY_FILE, and generates and keeps a key in DATA_DIR when none is set', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vault-'));
    const key = base64Key();
    fs.writeFileSync(path.join(dir, 'key'), `${key}\n`);
    const fromFile = loadConfig({ dotenv: false, env: { DATA_DIR: dir, ENCRYPTION_KEY_FILE: path.join(dir, 'key') } });
    expect(Vault.fromConfig(fromFile).keyId).to.equal(parseKey(key).id);
    const generated = Vault.fromConfig(loadConfig({ dotenv: false, env: { DATA_DIR: dir } }));
    expect(Vault.fromConfig(loadConfig({ dotenv: false, env: { DATA_DIR: dir } })).keyId).to.equal(generated.keyId);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('log redaction of vault secrets', () => {
  it('blanks password, secret, sshKey and apiTokenSecret at the top level and one level down', () => {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    logger.info({ password: 'pw-top', secret: 'sec-top', sshKey: 'key-top', apiTokenSecret: 'tok-top', body: { password: 'pw-in', sshKey: 'key-in' }, node: { apiTokenSecret: 'tok-in', secret: 'sec-in' } }, 'x');
    const out = lines.join('');
    for (const value of ['pw-top', 'sec-top', 'key-top', 'tok-top', 'pw-in', 'key-in', 'tok-in', 'sec-in']) expect(out).not.to.contain(value);
    expect(out).to.contain('[redacted]');
  });
});

describe('credential input', () => {
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----';

  it('accepts a private key (normalised to end with a newline) or none, and refuses other text', () => {
    const ok = credentialInput.parse({ label: ' root ', username: 'root', password: ' spaced ', sshKey: `${key.replace(/\n/g, '\r\n')}\r\n` });
    expect(ok).to.deep.equal({ label: 'root', username: 'root', password: ' spaced ', sshKey: `${key}\n` });
    expect(credentialInput.parse({ label: 'a', username: 'b', password: 'c', sshKey: '' }).sshKey).to.equal(undefined);
    for (const sshKey of ['ssh-ed25519 AAAAC3Nza… user@host', '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----', 'x'.repeat(17 * 1024)]) {
      expect(credentialInput.safeParse({ label: 'a', username: 'b', password: 'c', sshKey }).success, sshKey.slice(0, 30)).to.equal(false);
    }
  });

  it('refuses an empty label or password, multi-line labels and usernames, and over-long values', () => {
    const bad = [
      { label: '', username: 'root', password: 'x' },
      { label: 'a', username: 'root', password: '' },
      { label: 'a\nb', username: 'root', password: 'x' },
      { label: 'a', username: 'root\r\nfull address:s:evil', password: 'x' },
      { label: 'a'.repeat(65), username: 'root', password: 'x' },
      { label: 'a', username: 'root', password: 'x'.repeat(4097) },
    ];
    for (const input of bad) expect(credentialInput.safeParse(input).success, JSON.stringify(input).slice(0, 60)).to.equal(false);
  });
});

describe('.rdp files', () => {
  it('holds the address, port and username with sane defaults, CRLF-terminated, and never a password line', () => {
    const text = buildRdpFile({ host: '10.1.2.3', port: 3390, username: 'CORP\\alice' });
    const lines = text.split('\r\n');
    expect(lines[0]).to.equal('full address:s:10.1.2.3:3390');
    expect(lines).to.include('username:s:CORP\\alice').and.include('prompt for credentials:i:1').and.include('screen mode id:i:2');
    expect(text.endsWith('\r\n')).to.equal(true);
    expect(text).not.to.match(/password/i);
    expect(buildRdpFile({ host: 'win.example.org', port: 3389 })).not.to.contain('username:');
  });

  it('refuses values with line breaks or control characters instead of writing extra lines', () => {
    expect(() => buildRdpFile({ host: '10.0.0.1', port: 3389, username: 'bob\r\nalternate shell:s:cmd.exe' })).to.throw('line break');
    expect(() => buildRdpFile({ host: 'a\nb', port: 3389 })).to.throw('line break');
    expect(() => buildRdpFile({ host: '10.0.0.1', port: 0 })).to.throw('port');
  });

  it('makes a safe download name', () => {
    expect(rdpFilename('win-01.example.org')).to.equal('win-01.example.org.rdp');
    expect(rdpFilename('../"evil"\r\nname')).to.equal('evil_name.rdp');
    expect(rdpFilename('...')).to.equal('vm.rdp');
  });
});
