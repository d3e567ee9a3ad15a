import { expect } from 'chai';
import { LineSplitter } from '../../../src/jobs/line-splitter.js';

describe('LineSplitter', () => {
  const split = (chunks: Buffer[], max?: number) => {
    const out: string[] = [];
    const s = new LineSplitter((t) => out.push(t), max);
    for (const c of chunks) s.push(c);
    s.end();
    return out;
  };

  it('emits whole lines, keeps a partial line until its newline or the end', () => {
    expect(split([Buffer.from('a\nb'), Buffer.from('c\nd')])).to.deep.equal(['a\n', 'bc\n', 'd']);
  });

  it('keeps a multi-byte character split across chunks, turns invalid bytes and NUL into U+FFFD', () => {
    const e = Buffer.from('é\n');
    expect(split([e.subarray(0, 1), e.subarray(1)])).to.deep.equal(['é\n']);
    expect(split([Buffer.from([0x61, 0xff, 0x00, 0x0a])])).to.deep.equal(['a\uFFFD\uFFFD\n']);
  });

  it('cuts a very long line on a character boundary', () => {
    const out = split([Buffer.from('é'.repeat(10) + '\n')], 5);
    expect(out.join('')).to.equal('é'.repeat(10) + '\n');
    for (const piece of out.slice(0, -1)) expect(Buffer.byteLength(piece)).to.be.at.most(5);
  });
});
