import * as assert from 'node:assert/strict';
import { askableArgs, parseDockerfile } from '../../../src/engine/dockerfile';
import { BuildTracker } from '../../../src/engine/build';

describe('Dockerfile arguments and stages', () => {
  const table: Array<{ name: string; text: string; args: Array<[string, string | undefined]>; stages: Array<[string | undefined, string]>; problems?: RegExp }> = [
    { name: 'a global ARG used in FROM and a stage ARG', text: 'ARG TAG=1.0\nFROM base:${TAG}\nARG MODE\n', args: [['TAG', '1.0'], ['MODE', undefined]], stages: [[undefined, 'base:${TAG}']] },
    { name: 'several ARGs on one line with quotes', text: 'FROM scratch\nARG A=1 B="two words" C\n', args: [['A', '1'], ['B', 'two words'], ['C', undefined]], stages: [[undefined, 'scratch']] },
    { name: 'lower-case instructions, --platform and AS', text: 'from --platform=$BUILDPLATFORM golang AS Build\nfrom scratch as final\n', args: [], stages: [['build', 'golang'], ['final', 'scratch']] },
    { name: 'the escape directive and backtick continuations', text: '# escape=`\nFROM scratch\nARG WIN=C:\\path `\n  OTHER=2\n', args: [['WIN', 'C:\\path'], ['OTHER', '2']], stages: [[undefined, 'scratch']] },
    { name: 'heredoc bodies are not instructions', text: 'FROM scratch\nRUN <<EOF\nARG NOT_AN_ARG=1\nFROM nope\nEOF\nARG REAL\n', args: [['REAL', undefined]], stages: [[undefined, 'scratch']] },
    { name: 'predefined proxy and platform ARGs are not asked', text: 'FROM scratch\nARG TARGETARCH\nARG HTTP_PROXY\nARG MINE=x\n', args: [['MINE', 'x']], stages: [[undefined, 'scratch']] },
    { name: 'a global ARG redeclared without a default keeps the default', text: 'ARG V=3\nFROM scratch\nARG V\n', args: [['V', '3']], stages: [[undefined, 'scratch']] },
    { name: 'no FROM at all', text: '# just a comment\nRUN echo\n', args: [], stages: [], problems: /no FROM instruction/ },
  ];
  for (const t of table) {
    it(`reads ${t.name}`, () => {
      const info = parseDockerfile(t.text);
      assert.deepEqual(askableArgs(info).map((a) => [a.name, a.defaultValue]), t.args);
      assert.deepEqual(info.stages.map((s) => [s.name, s.base]), t.stages);
      if (t.problems) assert.match(info.problems.join('\n'), t.problems);
      else assert.deepEqual(info.problems, []);
    });
  }
});

describe('build output', () => {
  it('turns steps split across chunks into step and output events and keeps the image id', () => {
    const t = new BuildTracker('Building x');
    const events = [
      { stream: 'Step 1/2 : FROM scr' }, { stream: 'atch\n ---> Running' }, { stream: ' in abc\n' }, { aux: { ID: 'sha256:' + 'a'.repeat(64) } },
      { stream: 'Step 2/2 : CMD ["x"]\n' }, { stream: 'Successfully built aaaa\n' },
    ].flatMap((m) => t.accept(m));
    assert.deepEqual(events, [
      { type: 'step', step: 1, total: 2, instruction: 'FROM scratch' }, { type: 'output', text: ' ---> Running in abc' },
      { type: 'step', step: 2, total: 2, instruction: 'CMD ["x"]' }, { type: 'output', text: 'Successfully built aaaa' },
    ]);
    assert.equal(t.imageId, 'sha256:' + 'a'.repeat(64));
    t.accept({ error: 'COPY failed: file not found', errorDetail: { message: 'COPY failed: file not found' } });
    assert.match(t.failure()?.message ?? '', /COPY failed/);
  });
});
