import * as assert from 'node:assert/strict';
import { EngineError } from '../../../src/engine/errors';
import { JsonObjectSplitter, ProgressTracker, type ProgressEvent } from '../../../src/engine/progress';

/** What dockerd 28 writes for `docker push` of a two-layer image (abridged), one object per line. */
const PUSH_TRANSCRIPT = [
  { status: 'The push refers to repository [127.0.0.1:5000/team/app]' },
  { status: 'Preparing', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Preparing', progressDetail: {}, id: 'bbbbbbbbbbbb' },
  { status: 'Waiting', progressDetail: {}, id: 'bbbbbbbbbbbb' },
  { status: 'Pushing', progressDetail: { current: 512, total: 2048 }, progress: '[====>      ]', id: 'aaaaaaaaaaaa' },
  { status: 'Pushing', progressDetail: { current: 2048, total: 2048 }, id: 'aaaaaaaaaaaa' },
  { status: 'Pushed', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Layer already exists', progressDetail: {}, id: 'bbbbbbbbbbbb' },
  { status: '1: digest: sha256:1111111111111111111111111111111111111111111111111111111111111111 size: 735' },
  { progressDetail: {}, aux: { Tag: '1', Digest: 'sha256:1111111111111111111111111111111111111111111111111111111111111111', Size: 735 } },
];

const PULL_TRANSCRIPT = [
  { status: 'Pulling from team/app', id: '1' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Downloading', progressDetail: { current: 100, total: 400 }, id: 'aaaaaaaaaaaa' },
  { status: 'Downloading', progressDetail: { current: 400, total: 400 }, id: 'aaaaaaaaaaaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Extracting', progressDetail: { current: 32768, total: 90000 }, id: 'aaaaaaaaaaaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Digest: sha256:2222222222222222222222222222222222222222222222222222222222222222' },
  { status: 'Status: Downloaded newer image for 127.0.0.1:5000/team/app:1' },
];

const run = (messages: unknown[], action = 'Pushing x'): { tracker: ProgressTracker; events: ProgressEvent[] } => {
  const tracker = new ProgressTracker(action);
  const events = messages.flatMap((m) => tracker.accept(m));
  return { tracker, events };
};

describe('engine: JSON progress stream splitting', () => {
  const text = PUSH_TRANSCRIPT.map((m) => JSON.stringify(m)).join('\r\n') + '\r\n';

  it('yields the same objects whatever the chunk boundaries', () => {
    for (let cut = 1; cut < text.length; cut += 7) {
      const s = new JsonObjectSplitter();
      const got = [...s.push(text.slice(0, cut)), ...s.push(text.slice(cut))];
      assert.deepEqual(got, PUSH_TRANSCRIPT, `cut at ${cut}`);
      assert.deepEqual(s.stray, []);
    }
  });

  it('yields objects one byte at a time', () => {
    const s = new JsonObjectSplitter();
    const got = [...text].flatMap((c) => s.push(c));
    assert.deepEqual(got, PUSH_TRANSCRIPT);
  });

  it('splits objects written back to back without newlines and keeps braces inside strings', () => {
    const s = new JsonObjectSplitter();
    const objs = [{ status: 'a {not} "quoted" \\ }' }, { status: '}{' }, { error: 'x' }];
    assert.deepEqual(s.push(objs.map((o) => JSON.stringify(o)).join('')), objs);
  });

  it('drops an object that never ends instead of holding it without bound, then reads on', () => {
    const s = new JsonObjectSplitter(1000);
    s.push('{"status":"');
    for (let i = 0; i < 20; i++) s.push('x'.repeat(100));
    assert.match(s.stray[0] ?? '', /^\{"status":"x+… \(\d+ characters without an end\)$/);
    assert.ok(s.stray.slice(1).every((t) => /^x+$/.test(t)), 'the rest of the runaway text is set aside too');
    assert.deepEqual(s.push('{"status":"next"}'), [{ status: 'next' }]);
  });

  it('keeps plain text between objects aside instead of failing', () => {
    const s = new JsonObjectSplitter();
    assert.deepEqual(s.push('proxy says hi\n{"status":"ok"}\n'), [{ status: 'ok' }]);
    s.push('{"status":"cut');
    s.end();
    assert.deepEqual(s.stray, ['proxy says hi', '{"status":"cut']);
  });
});

describe('engine: push and pull progress events', () => {
  it('reports per-layer progress, overall bytes that only grow, and the pushed digest', () => {
    const { tracker, events } = run(PUSH_TRANSCRIPT);
    assert.equal(tracker.failure(), undefined);
    assert.equal(tracker.digest, 'sha256:1111111111111111111111111111111111111111111111111111111111111111');
    assert.equal(tracker.digestSizeBytes, 735);
    const layerEvents = events.filter((e) => e.type === 'layer');
    assert.deepEqual([...new Set(layerEvents.map((e) => e.type === 'layer' && e.layer.id))], ['aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
    const bytes = events.map((e) => e.overall.currentBytes);
    assert.deepEqual(bytes, [...bytes].sort((a, b) => a - b), 'overall bytes never go down');
    const last = events.at(-1);
    assert.deepEqual(last?.overall, { layers: 2, layersDone: 2, currentBytes: 2048, totalBytes: 2048 });
    assert.deepEqual(events.filter((e) => e.type === 'status').map((e) => e.type === 'status' && e.message.slice(0, 26)), [
      'The push refers to reposit', '1: digest: sha256:11111111',
    ]);
    assert.deepEqual(events.filter((e) => e.type === 'digest').length, 1);
    const pushing = layerEvents.find((e) => e.type === 'layer' && e.layer.status === 'Pushing');
    assert.deepEqual(pushing?.type === 'layer' && pushing.layer, { id: 'aaaaaaaaaaaa', status: 'Pushing', current: 512, total: 2048, sizeBytes: 2048, done: false });
    assert.deepEqual(tracker.layerSummaries().map((l) => [l.id, l.status, l.done]), [['aaaaaaaaaaaa', 'Pushed', true], ['bbbbbbbbbbbb', 'Layer already exists', true]]);
  });

  it('counts download bytes, not extraction, and takes the pull digest and status', () => {
    const { tracker, events } = run(PULL_TRANSCRIPT, 'Pulling x');
    assert.equal(tracker.failure(), undefined);
    assert.equal(tracker.digest, 'sha256:2222222222222222222222222222222222222222222222222222222222222222');
    assert.equal(tracker.finalStatus, 'Downloaded newer image for 127.0.0.1:5000/team/app:1');
    assert.deepEqual(events.at(-1)?.overall, { layers: 1, layersDone: 1, currentBytes: 400, totalBytes: 400 });
    assert.equal(events[0]?.type, 'status', '"Pulling from" names the tag, not a layer');
    const extracting = events.find((e) => e.type === 'layer' && e.layer.status === 'Extracting');
    assert.ok(extracting?.type === 'layer' && extracting.layer.current === 32768 && extracting.overall.currentBytes === 400);
  });

  const failures: Array<{ name: string; messages: unknown[]; kind: string }> = [
    {
      name: 'a push that ends with an unauthorized error line',
      messages: [...PUSH_TRANSCRIPT.slice(0, 5), { errorDetail: { message: 'unauthorized: authentication required' }, error: 'unauthorized: authentication required' }],
      kind: 'unauthorized',
    },
    {
      name: 'a push denied by the registry, with lines after the error',
      messages: [{ errorDetail: { message: 'denied: requested access to the resource is denied' }, error: 'denied: requested access to the resource is denied' }, ...PUSH_TRANSCRIPT],
      kind: 'denied',
    },
    { name: 'an error with only the short field', messages: [{ error: 'manifest unknown' }], kind: 'not-found' },
    { name: 'a refused connection to the registry', messages: [{ errorDetail: { message: 'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused' } }], kind: 'registry-unreachable' },
  ];
  for (const { name, messages, kind } of failures) {
    it(`fails ${name} as ${kind}, whatever follows`, () => {
      const { tracker } = run(messages);
      const f = tracker.failure();
      assert.ok(f instanceof EngineError);
      assert.equal(f.kind, kind);
      assert.match(f.message, /^Pushing x failed: /);
    });
  }

  it('takes the digest from the status line when no aux object follows (Podman), reporting it once', () => {
    const line = { status: '1: digest: sha256:3b8ac0b4d9e5465928967310013355043a923ebb289c670e5348a7faa81148b0 size: 498' };
    const { tracker, events } = run([{ status: 'The push refers to repository [127.0.0.1:5000/pod/app:1]' }, line]);
    assert.equal(tracker.digest, 'sha256:3b8ac0b4d9e5465928967310013355043a923ebb289c670e5348a7faa81148b0');
    assert.equal(tracker.digestSizeBytes, 498);
    assert.deepEqual(events.filter((e) => e.type === 'digest').map((e) => e.type === 'digest' && [e.tag, e.sizeBytes]), [['1', 498]]);
    const docker = run(PUSH_TRANSCRIPT);
    assert.equal(docker.events.filter((e) => e.type === 'digest').length, 1, 'Docker\'s status line plus aux make one digest event');
  });

  it('ignores objects that are not progress', () => {
    const { events } = run([null, 3, 'text', {}, { status: '' }, { id: 'x' }]);
    assert.deepEqual(events, []);
  });
});
