// The parts of the nginx -t check that need no nginx: which binary, and which line of the config an
// error of nginx's is at (test/system/edge/ runs the real one).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../../config/index.js';
import { errorLine, nginxBinary } from '../../../src/edge/nginx-check.js';

const CONF = '/tmp/berth-edge-check-abc/nginx.conf';
const BODY = [
  '# head',
  'http {',
  '  server {',
  '    listen 443 ssl default_server;',
  '  }',
  '  # service 4: http a.example.org -> 10.0.0.1:80 (container a)',
  '  server {',
  '    listen 443 ssl;',
  '    ssl_certificate /etc/ssl/a.pem;',
  '    ssl_certificate_key /etc/ssl/a.key;',
  '  }',
  '}',
  'stream {',
  '  server {',
  '    listen 20022;',
  '  }',
  '  server {',
  '    listen 2002 udp;',
  '  }',
  '}',
].join('\n');

describe('edge nginx -t check (without nginx)', () => {
  describe('nginxBinary', () => {
    let dataDir: string;
    before(() => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-edge-binary-'));
    });
    after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const config = (value: string) => loadConfig({ dotenv: false, env: { DATA_DIR: dataDir, EDGE_NGINX_BINARY: value } });

    it('is null for none, and the path when one is configured', () => {
      expect(nginxBinary(config('none'))).to.equal(null);
      expect(nginxBinary(config('/opt/nginx/sbin/nginx'))).to.equal('/opt/nginx/sbin/nginx');
    });

    it('finds /usr/sbin/nginx for auto when it is installed (as on CI), else null', () => {
      let installed = true;
      try {
        fs.accessSync('/usr/sbin/nginx', fs.constants.X_OK);
      } catch {
        installed = false;
      }
      expect(nginxBinary(config('auto'))).to.equal(installed ? '/usr/sbin/nginx' : null);
    });
  });

  describe('errorLine', () => {
    it("takes the line nginx names in the checked file", () => {
      const output = `nginx: [emerg] unknown directive "lisen" in ${CONF}:8\nnginx: configuration file ${CONF} test failed\n`;
      expect(errorLine(output, CONF, BODY)).to.equal(8);
    });

    it('ignores a line nginx names in another file', () => {
      expect(errorLine('nginx: [emerg] unknown directive "x" in /etc/nginx/other.conf:3\n', CONF, BODY)).to.equal(null);
    });

    it('finds the line of a certificate nginx cannot load (it names the path, not the line)', () => {
      const output = '2026/12/02 07:17:56 [emerg] 12726#12726: cannot load certificate "/etc/ssl/a.pem": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory)\n';
      expect(errorLine(output, CONF, BODY)).to.equal(9);
      const keyOutput = '2026/12/02 07:17:56 [emerg] 1#1: cannot load certificate key "/etc/ssl/a.key": BIO_new_file() failed\n';
      expect(errorLine(keyOutput, CONF, BODY)).to.equal(10);
    });

    it('finds the line of a port nginx cannot bind', () => {
      expect(errorLine('nginx: [emerg] bind() to 0.0.0.0:20022 failed (13: Permission denied)\n', CONF, BODY)).to.equal(15);
      expect(errorLine('nginx: [emerg] bind() to 0.0.0.0:2002 failed (13: Permission denied)\n', CONF, BODY)).to.equal(18);
    });

    it('is null when nginx names nothing the config holds', () => {
      expect(errorLine('nginx: [emerg] 1024 worker_connections are not enough for 5002 listening sockets\n', CONF, BODY)).to.equal(null);
    });
  });
});
