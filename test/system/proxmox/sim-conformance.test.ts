// Conformance of the simulator to the schema file: every `METHOD path` in pve-api-subset.json
// (iterated from the JSON, so none can be forgotten) answers a valid request with 200, the exact
// content type and a result shaped like the schema's `returns`, and answers representative
// invalid requests with the 400 shape of the README.
import { expect } from 'chai';
import { fetch } from 'undici';
import { listOperations, loadSchema, type MethodInfo, type PropSchema } from '../../../tools/pve-sim/schema.js';
import { ADMIN_TOKEN, startSim, type StartedSim } from '../../support/pve-sim.js';

const CT = 'application/json;charset=UTF-8';
const TOKEN_HEADER = `PVEAPIToken=${ADMIN_TOKEN.tokenId}=${ADMIN_TOKEN.secret}`;
const DEBIAN = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

interface Example {
  path: Record<string, string>;
  params?: Record<string, string>;
  /** POST /access/ticket refuses tokens; it is called without auth. */
  noAuth?: boolean;
  /** State the answer should show, so that its rows can be checked against `returns`. */
  setUp?: (s: StartedSim) => void;
}

/** A valid request per operation; `{upid}` comes from a task started before the request. */
const examples: Record<string, Example> = {
  'GET /access/ticket': { path: {} },
  'POST /access/ticket': { path: {}, params: { username: 'root@pam', password: 'rootpass123' }, noAuth: true },
  'GET /version': { path: {} },
  'GET /nodes': { path: {} },
  'GET /nodes/{node}/status': { path: { node: 'pve1' } },
  'GET /cluster/resources': { path: {}, params: { type: 'vm' } },
  'GET /cluster/nextid': { path: {} },
  'GET /nodes/{node}/lxc': { path: { node: 'pve1' } },
  'POST /nodes/{node}/lxc': { path: { node: 'pve1' }, params: { vmid: '150', ostemplate: DEBIAN, rootfs: 'local-lvm:8', net0: 'name=eth0,bridge=vmbr0,ip=dhcp' } },
  'DELETE /nodes/{node}/lxc/{vmid}': { path: { node: 'pve1', vmid: '101' }, params: { purge: '1' } },
  'GET /nodes/{node}/lxc/{vmid}/config': { path: { node: 'pve1', vmid: '100' } },
  'PUT /nodes/{node}/lxc/{vmid}/config': { path: { node: 'pve1', vmid: '100' }, params: { description: 'hello', cores: '2' } },
  'GET /nodes/{node}/lxc/{vmid}/status/current': { path: { node: 'pve1', vmid: '100' } },
  'POST /nodes/{node}/lxc/{vmid}/status/start': { path: { node: 'pve1', vmid: '101' } },
  'POST /nodes/{node}/lxc/{vmid}/status/stop': { path: { node: 'pve1', vmid: '100' } },
  'POST /nodes/{node}/lxc/{vmid}/status/shutdown': { path: { node: 'pve1', vmid: '100' }, params: { timeout: '30' } },
  'POST /nodes/{node}/lxc/{vmid}/clone': { path: { node: 'pve1', vmid: '9000' }, params: { newid: '151', hostname: 'clone1' } },
  'GET /nodes/{node}/lxc/{vmid}/interfaces': { path: { node: 'pve1', vmid: '100' } },
  'GET /nodes/{node}/qemu': { path: { node: 'pve1' }, params: { full: '1' } },
  'GET /nodes/{node}/qemu/{vmid}/config': { path: { node: 'pve1', vmid: '200' } },
  'GET /nodes/{node}/qemu/{vmid}/status/current': { path: { node: 'pve1', vmid: '200' } },
  'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces': { path: { node: 'pve1', vmid: '200' } },
  'GET /nodes/{node}/tasks': { path: { node: 'pve1' }, params: { source: 'all' } },
  'GET /nodes/{node}/tasks/{upid}/status': { path: { node: 'pve1', upid: '' } },
  'GET /nodes/{node}/tasks/{upid}/log': { path: { node: 'pve1', upid: '' }, params: { start: '0', limit: '10' } },
  'GET /nodes/{node}/storage': { path: { node: 'pve1' }, params: { content: 'vztmpl' } },
  'GET /nodes/{node}/storage/{storage}/content': { path: { node: 'pve1', storage: 'local' }, params: { content: 'vztmpl' } },
  'GET /access/users': { path: {}, params: { full: '1' } },
  'GET /access/domains': { path: {} },
  'POST /access/users': { path: {}, params: { userid: 'carol@pve', password: 'carolpass123', groups: 'developers', email: 'carol@example.org' } },
  'GET /access/permissions': { path: {}, params: { userid: 'alice@pve' } },
  'GET /cluster/tasks': { path: {}, setUp: (s) => { s.sim.core.tasks.start({ node: 'pve1', type: 'vzstart', id: 101, principal: { userid: 'root@pam' }, lines: [] }); } },
  'GET /pools': { path: {}, params: { poolid: 'web' }, setUp: (s) => { s.sim.state.pools.push({ poolid: 'web', comment: 'Web', vms: [100, 200], storage: ['local'] }); } },
  'PUT /nodes/{node}/lxc/{vmid}/resize': { path: { node: 'pve1', vmid: '100' }, params: { disk: 'rootfs', size: '+1G' } },
  'POST /nodes/{node}/lxc/{vmid}/status/reboot': { path: { node: 'pve1', vmid: '100' }, params: { timeout: '30' } },
  'GET /nodes/{node}/lxc/{vmid}/snapshot': { path: { node: 'pve1', vmid: '100' } },
  'POST /nodes/{node}/lxc/{vmid}/snapshot': { path: { node: 'pve1', vmid: '100' }, params: { snapname: 'before-upgrade', description: 'first' } },
  'POST /nodes/{node}/qemu/{vmid}/status/start': { path: { node: 'pve2', vmid: '201' } },
  'POST /nodes/{node}/qemu/{vmid}/status/stop': { path: { node: 'pve1', vmid: '200' } },
  'POST /nodes/{node}/qemu/{vmid}/status/shutdown': { path: { node: 'pve1', vmid: '200' }, params: { timeout: '30', forceStop: '1' } },
};

interface Answer { status: number; reason: string; contentType: string | null; body: any }

async function call(s: StartedSim, method: string, template: string, ex: Example, params: Record<string, string>): Promise<Answer> {
  const path = template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(ex.path[k]));
  const url = new URL(`${s.url}/api2/json${path}`);
  const headers: Record<string, string> = ex.noAuth ? {} : { Authorization: TOKEN_HEADER };
  let body: string | undefined;
  if (method === 'POST' || method === 'PUT') {
    body = new URLSearchParams(params).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else {
    for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  return { status: res.status, reason: res.statusText, contentType: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

/** Check a result against the schema's `returns`: top-level type, required keys, scalar types. */
function checkReturns(data: unknown, returns: PropSchema | undefined, op: string): void {
  if (!returns) return;
  const typeOk = (v: unknown, s: PropSchema): boolean => {
    switch (s.type) {
      case 'array': return Array.isArray(v);
      case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
      case 'string': return typeof v === 'string';
      case 'null': return v === null;
      // Perl scalars: integers may come as numeric strings (nextid), booleans as 0/1.
      case 'integer': case 'number': return typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v));
      case 'boolean': return v === 0 || v === 1 || typeof v === 'boolean';
      default: return true;
    }
  };
  expect(typeOk(data, returns), `${op} returns ${returns.type}, got ${JSON.stringify(data)?.slice(0, 80)}`).to.equal(true);
  const props = (returns.type === 'array' ? (returns.items as PropSchema | undefined)?.properties : returns.properties) as Record<string, PropSchema> | undefined;
  if (!props) return;
  const rows = returns.type === 'array' ? (data as Record<string, unknown>[]) : [data as Record<string, unknown>];
  for (const row of rows) {
    for (const [k, s] of Object.entries(props)) {
      if (!s.optional) expect(row, `${op}: required key ${k}`).to.have.property(k);
      if (row[k] !== undefined && ['string', 'integer', 'number', 'boolean'].includes(String(s.type))) {
        expect(typeOk(row[k], s), `${op}: ${k} should be ${s.type}, got ${JSON.stringify(row[k])}`).to.equal(true);
      }
    }
  }
}

function expect400(a: Answer, key: string, text: string | RegExp): void {
  expect(a.status).to.equal(400);
  expect(a.reason).to.equal('Parameter verification failed.');
  expect(a.contentType).to.equal(CT);
  expect(a.body.data).to.equal(null);
  expect(a.body.message).to.equal('Parameter verification failed.\n');
  if (typeof text === 'string') expect(a.body.errors[key]).to.equal(text);
  else expect(a.body.errors[key]).to.match(text);
}

const schema = loadSchema();
const ops = listOperations(schema);

/** A non-path parameter to break, per kind. */
function pick(info: MethodInfo, placeholders: string[], want: (s: PropSchema) => boolean): [string, PropSchema] | undefined {
  return Object.entries(info.parameters.properties ?? {}).find(([k, s]) => !placeholders.includes(k) && !k.endsWith('[n]') && want(s));
}

describe('pve-sim conformance with pve-api-subset.json', () => {
  let s: StartedSim;
  beforeEach(async () => { s = await startSim({ taskMs: 20 }); });
  afterEach(async () => { await s.close(); });

  it('has a valid example for every operation in the schema file', () => {
    const missing = ops.map((o) => `${o.method} ${o.path}`).filter((k) => !examples[k]);
    expect(missing).to.deep.equal([]);
    expect(ops.length).to.equal(40);
  });

  for (const { method, path: template, info } of ops) {
    const op = `${method} ${template}`;
    const placeholders = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);

    describe(op, () => {
      let ex: Example;
      beforeEach(() => {
        const { setUp, ...rest } = examples[op] ?? { path: {} };
        ex = structuredClone(rest);
        setUp?.(s);
        if ('upid' in ex.path) {
          // A finished task of pve1 to read: start CT 101 and let it run.
          ex.path.upid = s.sim.core.tasks.start({ node: 'pve1', type: 'vzstart', id: 101, principal: { userid: 'root@pam' }, lines: ['starting'] });
        }
      });

      it('answers a valid request with 200, the exact content type and the documented shape', async () => {
        const a = await call(s, method, template, ex, ex.params ?? {});
        expect(a.status, JSON.stringify(a.body)).to.equal(200);
        expect(a.reason).to.equal('OK');
        expect(a.contentType).to.equal(CT);
        expect(a.body).to.have.property('data');
        checkReturns(a.body.data, info.returns as PropSchema, op);
      });

      it('rejects an unknown parameter', async () => {
        const a = await call(s, method, template, ex, { ...ex.params, bogus_param: '1' });
        expect400(a, 'bogus_param', 'property is not defined in schema and the schema does not allow additional properties');
      });

      const required = Object.entries(info.parameters.properties ?? {}).filter(([k, p]) => !p.optional && !placeholders.includes(k));
      for (const [key] of required) {
        it(`rejects a request without required '${key}'`, async () => {
          const params = { ...ex.params };
          delete params[key];
          expect400(await call(s, method, template, ex, params), key, 'property is missing and it is not optional');
        });
      }

      const typed = pick(info, placeholders, (p) => p.type === 'integer' || p.type === 'boolean');
      if (typed) {
        it(`rejects a wrongly typed '${typed[0]}'`, async () => {
          const bad = typed[1].type === 'boolean' ? 'true' : 'abc';
          const a = await call(s, method, template, ex, { ...ex.params, [typed[0]]: bad });
          expect400(a, typed[0], `type check ('${typed[1].type}') failed - got '${bad}'`);
        });
      }

      const enumerated = pick(info, placeholders, (p) => Array.isArray(p.enum));
      if (enumerated) {
        it(`rejects a value outside the enum of '${enumerated[0]}'`, async () => {
          const a = await call(s, method, template, ex, { ...ex.params, [enumerated[0]]: 'bogus' });
          expect400(a, enumerated[0], `value 'bogus' does not have a value in the enumeration '${enumerated[1].enum!.join(', ')}'`);
        });
      }

      if (placeholders.includes('vmid')) {
        it('rejects a non-integer vmid in the path', async () => {
          const a = await call(s, method, template, { ...ex, path: { ...ex.path, vmid: 'abc' } }, ex.params ?? {});
          expect400(a, 'vmid', "type check ('integer') failed - got 'abc'");
        });
      }
    });
  }
});
