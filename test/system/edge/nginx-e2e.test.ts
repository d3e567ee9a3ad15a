// The rendered config in a real nginx on 127.0.0.1: an HTTPS request with the service's name reaches
// the HTTP backend (websocket upgrades too), plain HTTP is redirected, a TLS and a plain TCP
// connection and a UDP datagram reach the echo backends; after the container of one service stops,
// the config is rendered again and nginx reloaded: that service's port is closed, the others work.
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import type { EdgeSite, RegistryService, RegistrySnapshot } from '../../../src/edge/registry.js';
import { renderEdgeConfig } from '../../../src/edge/render.js';
import { edgeService, freePort, freeUdpPort, makeCertificate, startNginx, testSite, type CertificatePair, type RunningNginx } from '../../support/nginx.js';

const APP = 'app.e2e.test';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTPS request to nginx for `servername` (SNI and Host), trusting `ca`. */
function httpsGet(port: number, servername: string, ca: string, urlPath = '/hello?x=1'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: urlPath, servername, headers: { Host: servername }, ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

function httpGet(port: number, host: string, urlPath: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers: { Host: host }, agent: false }, (res) => {
      res.resume().on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: '' }));
    });
    req.on('error', reject).end();
  });
}

/** Writes `text` on a new connection (plain or TLS) and resolves with the first answer. */
function exchange(connect: () => net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect();
    socket.once('error', reject);
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString());
    });
    socket.write(text);
  });
}

function udpExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no UDP answer in 5 s'));
    }, 5000);
    socket.once('message', (m) => {
      clearTimeout(timer);
      socket.close();
      resolve(m.toString());
    });
    socket.send(text, port, '127.0.0.1');
  });
}

describe('edge nginx.conf in a real nginx (end to end on 127.0.0.1)', function () {
  this.timeout(60_000);
  let prefix: string;
  let site: EdgeSite;
  let siteCa: string;
  let appPair: CertificatePair;
  let httpBackend: http.Server;
  let echoBackend: net.Server;
  let udpBackend: dgram.Socket;
  let ports: { tcp: number; tls: number; udp: number };
  let services: { http: RegistryService; tcp: RegistryService; tls: RegistryService; udp: RegistryService };
  let nginx: RunningNginx;
  const backendSockets = new Set<net.Socket>();
  const confPath = () => path.join(prefix, 'nginx.conf');

  const render = async (snapshot: RegistrySnapshot) => fs.promises.writeFile(confPath(), renderEdgeConfig(snapshot, site).body);
  const snapshotOf = (...list: RegistryService[]): RegistrySnapshot => ({ services: list });

  before(async () => {
    prefix = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'berth-edge-e2e-'));
    site = await testSite(prefix);
    siteCa = await fs.promises.readFile(site.certificate, 'utf8');
    appPair = await makeCertificate(prefix, APP);

    // The HTTP backend answers with what nginx sent it, and a marker; an Upgrade is switched and echoed.
    httpBackend = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ marker: 'http-backend', url: req.url, headers: req.headers }));
    });
    httpBackend.on('upgrade', (req, socket) => {
      backendSockets.add(socket as net.Socket);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Seen-Connection: ${req.headers.connection}\r\n\r\n`);
      socket.on('data', (d) => socket.write(`ws-echo:${d}`));
    });
    echoBackend = net.createServer((socket) => {
      backendSockets.add(socket);
      socket.on('data', (d) => socket.write(`echo:${d}`));
    });
    udpBackend = dgram.createSocket('udp4');
    udpBackend.on('message', (m, from) => udpBackend.send(`udp-echo:${m}`, from.port, from.address));
    await Promise.all([
      new Promise<void>((resolve) => httpBackend.listen(0, '127.0.0.1', resolve)),
      new Promise<void>((resolve) => echoBackend.listen(0, '127.0.0.1', resolve)),
      new Promise<void>((resolve) => udpBackend.bind(0, '127.0.0.1', resolve)),
    ]);

    ports = { tcp: await freePort(), tls: await freePort(), udp: await freeUdpPort() };
    const echoPort = (echoBackend.address() as net.AddressInfo).port;
    services = {
      http: edgeService({ externalHostname: APP, internalPort: (httpBackend.address() as net.AddressInfo).port, domain: { id: 1, name: 'e2e.test', certificatePath: appPair.certificate, keyPath: appPair.key } }),
      tcp: edgeService({ type: 'tcp', externalPort: ports.tcp, internalPort: echoPort }),
      tls: edgeService({ type: 'tcp', tls: true, externalPort: ports.tls, internalPort: echoPort }),
      udp: edgeService({ type: 'udp', externalPort: ports.udp, internalPort: udpBackend.address().port }),
    };
  });

  after(async () => {
    // Upgraded and stream connections are not the http server's to close.
    for (const socket of backendSockets) socket.destroy();
    httpBackend.closeAllConnections();
    await Promise.all([
      new Promise<void>((resolve) => httpBackend.close(() => resolve())),
      new Promise<void>((resolve) => echoBackend.close(() => resolve())),
      new Promise<void>((resolve) => udpBackend.close(() => resolve())),
    ]);
    await fs.promises.rm(prefix, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await render(snapshotOf(services.http, services.tcp, services.tls, services.udp));
    nginx = await startNginx(prefix, confPath());
  });
  afterEach(async () => {
    await nginx.stop();
  });

  it('proxies HTTPS for the service name to its backend, with its own certificate and the forwarding headers', async () => {
    const reply = await httpsGet(site.httpsPort, APP, appPair.pem);
    expect(reply.status).to.equal(200);
    const seen = JSON.parse(reply.body);
    expect(seen.marker).to.equal('http-backend');
    expect(seen.url).to.equal('/hello?x=1');
    expect(seen.headers.host).to.equal(APP);
    expect(seen.headers['x-real-ip']).to.equal('127.0.0.1');
    expect(seen.headers['x-forwarded-for']).to.equal('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).to.equal('https');
    expect(seen.headers.connection).to.equal('close'); // no Upgrade asked for
  });

  it('refuses the TLS handshake for a name no service has', async () => {
    const err = await httpsGet(site.httpsPort, 'nobody.e2e.test', appPair.pem).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    // ssl_reject_handshake: nginx answers the ClientHello with an unrecognized_name alert.
    expect((err as Error).message).to.match(/unrecognized name/i);
  });

  it('redirects plain HTTP to HTTPS on the https port, keeping the path', async () => {
    const reply = await httpGet(site.httpPort, APP, '/a/b?c=d');
    expect(reply.status).to.equal(301);
    expect(reply.headers.location).to.equal(`https://${APP}:${site.httpsPort}/a/b?c=d`);
  });

  it('forwards a websocket-style Upgrade with its Upgrade and Connection headers', async () => {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: site.httpsPort, path: '/ws', servername: APP, ca: appPair.pem, agent: false, headers: { Host: APP, Connection: 'Upgrade', Upgrade: 'websocket' } });
      req.on('upgrade', (res, s) => {
        expect(res.statusCode).to.equal(101);
        expect(res.headers.upgrade).to.equal('websocket');
        expect(res.headers['x-seen-connection']).to.equal('upgrade');
        resolve(s);
      });
      req.on('response', (res) => reject(new Error(`expected an upgrade, got ${res.statusCode}`)));
      req.on('error', reject).end();
    });
    const answer = await new Promise<string>((resolve) => {
      socket.once('data', (d) => resolve(d.toString()));
      socket.write('ping');
    });
    socket.destroy();
    expect(answer).to.equal('ws-echo:ping');
  });

  it('passes plain TCP, TLS-terminated TCP and UDP to their backends', async () => {
    expect(await exchange(() => net.connect(ports.tcp, '127.0.0.1'), 'plain')).to.equal('echo:plain');
    expect(await exchange(() => tls.connect({ host: '127.0.0.1', port: ports.tls, servername: 'edge-default.test', ca: siteCa }), 'secret')).to.equal('echo:secret');
    expect(await udpExchange(ports.udp, 'datagram')).to.equal('udp-echo:datagram');
  });

  it("drops a stopped container's service on reload and keeps the others working", async () => {
    expect(await exchange(() => net.connect(ports.tcp, '127.0.0.1'), 'before')).to.equal('echo:before');
    const stopped = { ...services.tcp, container: { ...services.tcp.container, status: 'stopped' } };
    await render(snapshotOf(services.http, stopped, services.tls, services.udp));
    expect(await fs.promises.readFile(confPath(), 'utf8')).to.include(`# service ${stopped.id} left out: container ${stopped.container.hostname} is stopped`);
    await nginx.reload();

    const refused = await exchange(() => net.connect(ports.tcp, '127.0.0.1'), 'after').catch((e: NodeJS.ErrnoException) => e.code);
    expect(refused).to.equal('ECONNREFUSED');
    expect(JSON.parse((await httpsGet(site.httpsPort, APP, appPair.pem)).body).marker).to.equal('http-backend');
    expect(await exchange(() => tls.connect({ host: '127.0.0.1', port: ports.tls, servername: 'edge-default.test', ca: siteCa }), 'still')).to.equal('echo:still');
    expect(await udpExchange(ports.udp, 'still')).to.equal('udp-echo:still');
  });
});
