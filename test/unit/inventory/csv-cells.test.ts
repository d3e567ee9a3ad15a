import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { csvWriter, fromCell, toCell } from '../../../src/inventory/csv-columns.js';

/** The CSV text csvWriter makes of one row. */
async function write(cells: string[]): Promise<string> {
  const csv = csvWriter();
  let out = '';
  csv.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const done = new Promise((resolve) => csv.on('end', resolve));
  csv.write(cells);
  csv.end();
  await done;
  return out;
}

describe('inventory CSV cells: the formula guard and its undoing', () => {
  it("prefixes ' to cells a spreadsheet would run, full-width forms included, and leaves the rest", async () => {
    const cells = ['=cmd()', '+1', '-x', '@SUM(1)', '\tTab', '\uFF1D1+1', 'plain', '10.0.0.1', toCell(-5), ''];
    const [row] = parse(await write(cells)) as string[][];
    expect(row).to.deep.equal(["'=cmd()", "'+1", "'-x", "'@SUM(1)", "'\tTab", "'\uFF1D1+1", 'plain', '10.0.0.1', "'-5", '']);
    expect(row.map((c) => fromCell(c))).to.deep.equal(cells);
  });

  it('reads a cell back without the guard, trimmed, and keeps a leading quote that guards nothing', () => {
    expect(fromCell("'=1+1")).to.equal('=1+1');
    expect(fromCell("'\uFF20x")).to.equal('\uFF20x');
    expect(fromCell("  'quoted  ")).to.equal("'quoted");
    expect(fromCell(undefined)).to.equal('');
  });
});
