import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import type { Container, Node, User } from '../../../models/index.js';
import { addDays, todayUtc } from '../../../src/inventory/list-query.js';
import { createContainer, createNode, createVm, uniqueVmid } from '../../factories/inventory.js';
import { createAdminUser, createUser } from '../../factories/users.js';
import { useApp } from '../../support/app.js';
import { testContext } from '../../support/context.js';
import { login } from '../../support/login.js';

describe('inventory: container and VM lists (search, filters, sort, pages)', function () {
  this.timeout(30_000);
  const fixture = useApp();
  // Every record here carries this tag or has it in its name, so other files' rows never interfere.
  const tag = `l${crypto.randomBytes(4).toString('hex')}`;
  /** Another unique word, for records that must stay out of the `q=${tag}` scope. */
  const fresh = (prefix: string) => `${prefix}${crypto.randomBytes(4).toString('hex')}`;
  const net = `172.${crypto.randomInt(16, 32)}.${crypto.randomInt(0, 256)}`;
  const today = todayUtc();
  let owner: User;
  let other: User;
  let nodeA: Node;
  let nodeB: Node;
  let alpha: Container, beta: Container, gamma: Container, delta: Container;
  const agents: Record<'owner' | 'other' | 'admin', ReturnType<typeof request.agent>> = {} as never;

  before(async () => {
    const built = { owner: await createUser(), other: await createUser(), admin: await createAdminUser() };
    owner = built.owner.user;
    other = built.other.user;
    for (const role of ['owner', 'other', 'admin'] as const) {
      agents[role] = request.agent(fixture.app);
      await login(agents[role], built[role].user.username, built[role].password);
    }
    nodeA = await createNode({ name: `a-${tag}` });
    nodeB = await createNode({ name: `b-${tag}` });
    alpha = await createContainer({ hostname: `alpha-${tag}.example.org`, username: owner.username, nodeId: nodeA.id, vmid: uniqueVmid(), ipv4Address: `${net}.1`, macAddress: '02:ab:00:00:00:01'.replace('00:00', crypto.randomBytes(2).toString('hex').replace(/(..)(..)/, '$1:$2')), status: 'running', expiresAt: addDays(today, 3), tags: `${tag},w${tag}`, environment: 'production' });
    beta = await createContainer({ hostname: `beta-${tag}.example.org`, username: owner.username, nodeId: nodeB.id, vmid: uniqueVmid(), ipv4Address: `${net}.2`, status: 'stopped', expiresAt: addDays(today, -1), tags: `d${tag},${tag}`, drift: JSON.stringify({ status: { berth: 'stopped', proxmox: 'running' } }) });
    gamma = await createContainer({ hostname: `gamma-${tag}.example.org`, username: other.username, nodeId: nodeA.id, ipv4Address: `${net}.3`, expiresAt: addDays(today, 30), tags: tag });
    delta = await createContainer({ hostname: `delta-${tag}.example.org`, username: null, ipv4Address: `${net}.4`, tags: `x${tag},${tag},y${tag}` });
  });

  /** The names a JSON list answers for `query` as `role`. */
  async function names(role: keyof typeof agents, query: string, path = '/containers'): Promise<string[]> {
    const res = await agents[role].get(`${path}?${query}`).set('Accept', 'application/json').expect(200);
    return res.body[path.slice(1)].map((r: { name: string }) => r.name);
  }
  const n = (...records: Container[]) => records.map((r) => r.hostname);

  it('answers JSON rows with the node name and flags, never credentials or notes', async () => {
    const res = await agents.admin.get(`/containers?q=${tag}`).set('Accept', 'application/json').expect(200);
    expect(res.body).to.include({ total: 4, page: 1, per: 50, pages: 1 });
    const row = res.body.containers.find((r: { id: number }) => r.id === alpha.id);
    expect(row).to.have.keys('id', 'name', 'nodeId', 'node', 'vmid', 'ip', 'mac', 'owner', 'status', 'environment', 'expiresAt', 'expired', 'expiringSoon', 'tags', 'drifted', 'state', 'updatedAt');
    expect(row).to.include({ name: alpha.hostname, node: nodeA.name, vmid: alpha.vmid, ip: `${net}.1`, owner: owner.username, status: 'running', expiringSoon: true, expired: false, drifted: false });
    expect(row.tags).to.deep.equal([tag, `w${tag}`]);
    const b = res.body.containers.find((r: { id: number }) => r.id === beta.id);
    expect(b).to.include({ expired: true, expiringSoon: false, drifted: true });
  });

  it('searches by hostname fragment, IP prefix, MAC (any case and separator), owner and exact tag', async () => {
    expect(await names('admin', `q=alpha-${tag}`)).to.deep.equal(n(alpha));
    expect(await names('admin', `q=${net}.`)).to.deep.equal(n(alpha, beta, delta, gamma));
    expect(await names('admin', `q=${net}.3`)).to.deep.equal(n(gamma));
    // IPs match by prefix only: the middle of an address finds nothing.
    expect(await names('admin', `q=${net.slice(4)}.1`)).to.deep.equal([]);
    expect(await names('admin', `q=${encodeURIComponent(alpha.macAddress!.toUpperCase().replace(/:/g, '-'))}`)).to.deep.equal(n(alpha));
    expect(await names('admin', `q=${alpha.macAddress!.slice(6, 11).toUpperCase()}&tag=${tag}`)).to.deep.equal(n(alpha));
    expect(await names('admin', `q=${other.username}`)).to.deep.equal(n(gamma));
    expect(await names('admin', `q=${owner.username.slice(2)}`)).to.deep.equal(n(alpha, beta));
    expect(await names('admin', `q=y${tag}`)).to.deep.equal(n(delta));
    expect(await names('admin', `q=W${tag}`), 'tags match case-insensitively').to.deep.equal(n(alpha));
  });

  it('treats LIKE wildcards in the search as literal characters', async () => {
    expect(await names('admin', 'q=%25')).to.deep.equal([]);
    expect(await names('admin', `q=alpha_${tag}`)).to.deep.equal([]);
    expect(await names('admin', `q=${tag.slice(0, 3)}_${tag.slice(4)}`)).to.deep.equal([]);
    expect(await names('admin', `q=!${tag}`)).to.deep.equal([]);
    // Quotes and backslashes are data too (MariaDB reads \\ as an escape in string literals).
    expect(await names('admin', `q=${encodeURIComponent(`\\${tag}' OR '1'='1`)}`)).to.deep.equal([]);
    expect(await names('admin', `q=${encodeURIComponent('\\')}`)).to.deep.equal([]);
  });

  it('filters by node, status, owner, no owner, expiry window, expired, drift and tag', async () => {
    const scope = `q=${tag}`;
    expect(await names('admin', `${scope}&node=${nodeA.id}`)).to.deep.equal(n(alpha, gamma));
    expect(await names('admin', `${scope}&status=stopped`)).to.deep.equal(n(beta));
    expect(await names('admin', `${scope}&owner=${owner.username}`)).to.deep.equal(n(alpha, beta));
    expect(await names('admin', `${scope}&unowned=1`)).to.deep.equal(n(delta));
    expect(await names('admin', `${scope}&expiring=7`)).to.deep.equal(n(alpha));
    expect(await names('admin', `${scope}&expiring=30`)).to.deep.equal(n(alpha, gamma));
    expect(await names('admin', `${scope}&expiring=0`)).to.deep.equal([]);
    expect(await names('admin', `${scope}&expired=1`)).to.deep.equal(n(beta));
    expect(await names('admin', `${scope}&drifted=1`)).to.deep.equal(n(beta));
    expect(await names('admin', `tag=w${tag}`)).to.deep.equal(n(alpha));
    expect(await names('admin', `tag=${tag}`)).to.deep.equal(n(alpha, beta, delta, gamma));
    expect(await names('admin', `tag=${tag.slice(0, -1)}`), 'a tag filter matches whole tags').to.deep.equal([]);
    expect(await names('admin', `${scope}&node=${nodeA.id}&status=running&expiring=5`)).to.deep.equal(n(alpha));
    // Empty form fields are "no filter".
    expect(await names('admin', `${scope}&node=&status=&owner=&expiring=&tag=&sort=&dir=&page=&per=`)).to.have.length(4);
  });

  it('a user sees only their own records, and owner= / unowned= cannot widen that', async () => {
    expect(await names('owner', `q=${tag}`)).to.deep.equal(n(alpha, beta));
    expect(await names('owner', `q=${tag}&owner=${other.username}`)).to.deep.equal(n(alpha, beta));
    expect(await names('owner', `q=${tag}&unowned=1`)).to.deep.equal(n(alpha, beta));
    expect(await names('other', `tag=${tag}`)).to.deep.equal(n(gamma));
    const all = await agents.owner.get('/containers?per=200').set('Accept', 'application/json').expect(200);
    expect(all.body.containers.every((r: { owner: string }) => r.owner === owner.username)).to.equal(true);
  });

  it('sorts by a whitelisted column in either direction', async () => {
    const scope = `q=${tag}`;
    expect(await names('admin', `${scope}&sort=name&dir=desc`)).to.deep.equal(n(gamma, delta, beta, alpha));
    expect(await names('admin', `${scope}&sort=ip`)).to.deep.equal(n(alpha, beta, gamma, delta));
    expect(await names('admin', `${scope}&sort=ip&dir=desc`)).to.deep.equal(n(delta, gamma, beta, alpha));
    // NULL (no expiry) sorts first ascending on both databases.
    expect(await names('admin', `${scope}&sort=expires`)).to.deep.equal(n(delta, beta, alpha, gamma));
    expect(await names('admin', `${scope}&sort=node&dir=desc`)).to.deep.equal(n(beta, gamma, alpha, delta));
    expect(await names('admin', `${scope}&sort=status&dir=desc`)).to.deep.equal(n(delta, gamma, beta, alpha));
  });

  it('pages with total and page count, in a stable order', async () => {
    const ptag = fresh('p');
    const made = [];
    for (let i = 0; i < 12; i++) made.push(await createContainer({ hostname: `p${String(i).padStart(2, '0')}-${ptag}.example.org`, tags: ptag }));
    const page2 = await agents.admin.get(`/containers?tag=${ptag}&per=10&page=2`).set('Accept', 'application/json').expect(200);
    expect(page2.body).to.include({ total: 12, page: 2, per: 10, pages: 2 });
    expect(page2.body.containers.map((r: { name: string }) => r.name)).to.deep.equal(n(made[10], made[11]));
    const page1 = await names('admin', `tag=${ptag}&per=10&sort=name&dir=desc`);
    expect(page1).to.deep.equal(n(...made.slice(2).reverse()));
    const beyond = await agents.admin.get(`/containers?tag=${ptag}&per=10&page=9`).set('Accept', 'application/json').expect(200);
    expect(beyond.body).to.include({ total: 12, pages: 2 });
    expect(beyond.body.containers).to.deep.equal([]);
  });

  it('reads a page with a constant number of queries, however many rows it shows', async () => {
    const { sequelize } = testContext().db;
    const count = async (query: string) => {
      let queries = 0;
      // Session reads and writes vary with the session's state, not with the list: left out.
      sequelize.addHook('afterQuery', 'count-list-queries', (_options, query) => {
        if (!/Sessions/.test(String((query as unknown as { sql?: string }).sql))) queries++;
      });
      try {
        await agents.admin.get(`/containers?${query}`).set('Accept', 'text/html').expect(200);
      } finally {
        sequelize.removeHook('afterQuery', 'count-list-queries');
      }
      return queries;
    };
    const one = await count(`q=alpha-${tag}`);
    const many = await count(`q=${tag}&per=200`);
    expect(one).to.be.greaterThan(2);
    expect(many).to.equal(one);
  });

  it('refuses invalid query values with 422 and a message per field', async () => {
    const bad = await agents.admin.get('/containers?sort=password&dir=up&per=7&page=0&expiring=-1&status=exploded&node=x&tag=a,b&expired=maybe').set('Accept', 'application/json').expect(422);
    expect(bad.body.fields).to.have.keys('sort', 'dir', 'per', 'page', 'expiring', 'status', 'node', 'tag', 'expired');
    expect(bad.body.fields.sort).to.contain('name, node');
    expect(bad.body.fields.per).to.contain('10, 25, 50, 100, 200');
    await agents.admin.get('/containers?expiring=3651').set('Accept', 'application/json').expect(422);
    await agents.admin.get('/containers?expiring=2.5').set('Accept', 'application/json').expect(422);
    await agents.admin.get('/containers?q=a&q=b').set('Accept', 'application/json').expect(422);
    const page = await agents.admin.get('/containers?sort=%3Cscript%3E&q=%3Cb%3Ex').set('Accept', 'text/html').expect(422);
    expect(page.text).to.contain('Sort by one of').and.contain('value="&lt;b&gt;x"').and.not.contain('<b>x');
  });

  it('renders the page: filter form with the current values, sort links and pages keeping the filters, export link', async () => {
    const rtag = fresh('r');
    for (let i = 0; i < 3; i++) await createContainer({ hostname: `r${i}-${rtag}.example.org`, tags: rtag });
    const res = await agents.admin.get(`/containers?tag=${rtag}&per=10&sort=name&dir=desc&page=1`).set('Accept', 'text/html').expect(200);
    expect(res.text).to.contain(`value="${rtag}"`).and.contain(`href="/containers/export.csv?tag=${rtag}&amp;dir=desc"`);
    expect(res.text).to.contain(`href="/containers?tag=${rtag}&amp;sort=ip&amp;per=10"`);
    expect(res.text).to.contain(`href="/containers?tag=${rtag}&amp;per=10"`, 'clicking the active column flips the direction');
    expect(res.text).to.contain('href="/containers/import"').and.contain('href="/containers/new"').and.contain('action="/containers/bulk"');
    expect(res.text).to.contain('name="ids"').and.contain('data-select-all').and.contain('/js/inventory-list.js');
    expect(res.text, 'one page needs no pager').to.not.contain('Page 1 of').and.not.contain('rel="next"');
    expect(res.text).to.not.contain('rel="prev"');
    const empty = await agents.owner.get(`/containers?tag=none${tag}`).set('Accept', 'text/html').expect(200);
    expect(empty.text).to.contain('No containers match these filters').and.not.contain('action="/containers/bulk"').and.not.contain('name="unowned"');
  });

  it('links pages with prev/next that keep every other parameter', async () => {
    const stag = fresh('s');
    for (let i = 0; i < 11; i++) await createContainer({ hostname: `s${String(i).padStart(2, '0')}-${stag}.example.org`, tags: stag, status: 'stopped' });
    const res = await agents.admin.get(`/containers?tag=${stag}&status=stopped&per=10&page=2`).set('Accept', 'text/html').expect(200);
    expect(res.text).to.contain('Page 2 of 2').and.contain(`href="/containers?status=stopped&amp;tag=${stag}&amp;per=10" rel="prev"`);
    const first = await agents.admin.get(`/containers?tag=${stag}&status=stopped&per=10`).set('Accept', 'text/html').expect(200);
    expect(first.text).to.contain(`href="/containers?status=stopped&amp;tag=${stag}&amp;page=2&amp;per=10" rel="next"`);
  });

  it('lists VMs through the same code (owner scope, search, JSON key `vms`)', async () => {
    const vtag = fresh('v');
    const vm = await createVm({ name: `vm-${vtag}.example.org`, username: owner.username, nodeId: nodeB.id, vmid: uniqueVmid(), status: 'paused', tags: `${vtag}` });
    await createVm({ name: `vm2-${vtag}.example.org`, username: other.username, tags: `${vtag}` });
    expect(await names('owner', `tag=${vtag}`, '/vms')).to.deep.equal([vm.name]);
    expect(await names('admin', `tag=${vtag}&status=paused&node=${nodeB.id}`, '/vms')).to.deep.equal([vm.name]);
    expect(await names('admin', `q=vm-${vtag}`, '/vms')).to.deep.equal([vm.name]);
    await agents.admin.get('/vms?status=creating').set('Accept', 'application/json').expect(422);
    const page = await agents.owner.get(`/vms?tag=${vtag}`).set('Accept', 'text/html').expect(200);
    expect(page.text).to.contain(`href="/vms/${vm.id}"`).and.contain('status-paused');
  });

  it('asks for a login first', async () => {
    await request(fixture.app).get('/containers').set('Accept', 'application/json').expect(401);
    const res = await request(fixture.app).get('/vms?q=x').set('Accept', 'text/html').expect(303);
    expect(res.headers.location).to.equal('/login?next=%2Fvms%3Fq%3Dx');
  });
});
