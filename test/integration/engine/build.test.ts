import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../../src/client';
import { askableArgs, Engine, EngineError, parseDockerfile, type BuildEvent } from '../../../src/engine';
import { ImageFiles, LayerCache } from '../../../src/image/imageFiles';
import { startBerthRegistry, type BerthRegistry } from '../../support/berthRegistry';
import { startDockerd, type Dockerd } from '../../support/dockerd';
import { BUSYBOX } from '../../support/images';
import { removeDir, tempDir } from '../../support/proc';

const DOCKERFILE = `# escape=\\
ARG BASE_NOTE=from-global
FROM scratch AS tools
COPY busybox /bin/busybox
ARG GREETING=hello
ARG \\
  # a comment inside a continuation
  EXTRA
RUN ["/bin/busybox", "sh", "-c", "echo \${GREETING} \${EXTRA} > /greeting"]

FROM tools AS final
COPY --from=tools /greeting /out/greeting
COPY ignored.txt kept.txt /in/
CMD ["/bin/busybox", "cat", "/out/greeting"]

FROM tools AS slow
RUN ["/bin/busybox", "sleep", "120"]
`;

describe('building from a Dockerfile through the engine and pushing the result', function () {
  let dockerd: Dockerd;
  let registry: BerthRegistry;
  let context: string;
  let engine: Engine;
  before(async function () {
    [dockerd, registry] = await Promise.all([startDockerd(), startBerthRegistry()]);
    engine = new Engine({ socketPath: dockerd.socket });
    context = tempDir('build-ctx');
    mkdirSync(join(context, 'sub'));
    copyFileSync(BUSYBOX, join(context, 'busybox'));
    writeFileSync(join(context, 'sub', 'Dockerfile'), DOCKERFILE);
    writeFileSync(join(context, 'kept.txt'), 'kept\n');
    writeFileSync(join(context, 'ignored.txt'), 'the .dockerignore leaves this out\n');
    writeFileSync(join(context, '.dockerignore'), 'ignored.txt\n');
  });
  after(async function () {
    await Promise.all([dockerd?.stop(), registry?.stop()]);
    if (context) removeDir(context);
  });

  it('reads the ARGs (with defaults) and stage names a build asks about', function () {
    const info = parseDockerfile(DOCKERFILE);
    assert.deepEqual(info.stages.map((s) => [s.name, s.base]), [['tools', 'scratch'], ['final', 'tools'], ['slow', 'tools']]);
    assert.deepEqual(askableArgs(info), [{ name: 'BASE_NOTE', defaultValue: 'from-global' }, { name: 'GREETING', defaultValue: 'hello' }, { name: 'EXTRA' }]);
    assert.deepEqual(info.problems, []);
  });

  it('builds a target stage with build args, reporting each step, and the pushed tag shows the built files', async function () {
    const ref = `${registry.host}/built/app:v1`;
    const events: BuildEvent[] = [];
    // The .dockerignore keeps ignored.txt out of the context, so COPY of it must fail...
    await assert.rejects(engine.build({
      contextDir: context, dockerfile: join(context, 'sub', 'Dockerfile'), tags: [ref], target: 'final', networkMode: 'none',
    }), (e: unknown) => e instanceof EngineError && /ignored\.txt/.test(e.message));
    // ...and without that line the build goes through.
    writeFileSync(join(context, 'sub', 'Dockerfile'), DOCKERFILE.replace('COPY ignored.txt kept.txt /in/', 'COPY kept.txt /in/'));
    const result = await engine.build({
      contextDir: context, dockerfile: 'sub/Dockerfile', tags: [ref], target: 'final', networkMode: 'none',
      buildArgs: { GREETING: 'bonjour', EXTRA: 'monde' }, onProgress: (e) => events.push(e),
    });
    assert.match(result.imageId, /^sha256:[0-9a-f]{64}$/);
    const steps = events.filter((e): e is Extract<BuildEvent, { type: 'step' }> => e.type === 'step');
    assert.ok(steps.length >= 5, `steps: ${JSON.stringify(steps)}`);
    assert.ok(steps.every((s, i) => s.step === i + 1 && s.total === steps[0]?.total), 'steps count up to the same total');
    assert.ok(!steps.some((s) => s.instruction.includes('sleep')), 'the slow stage was not built');

    const pushed = await engine.push(ref);
    assert.ok(pushed.digest);
    const client = new RegistryClient();
    try {
      const files = await ImageFiles.open(client.registry(registry.host), { repository: 'built/app', reference: 'v1' }, new LayerCache());
      assert.equal((await files.read('out/greeting')).toString(), 'bonjour monde\n');
      assert.equal((await files.read('in/kept.txt')).toString(), 'kept\n');
      await assert.rejects(files.stat('in/ignored.txt'), /does not exist/);
    } finally {
      client.close();
    }
  });

  it('stops a running build when cancelled and tags nothing', async function () {
    const ref = `${registry.host}/built/slow:v1`;
    const controller = new AbortController();
    const build = engine.build({
      contextDir: context, dockerfile: 'sub/Dockerfile', tags: [ref], target: 'slow', networkMode: 'none', noCache: true, signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'step' && e.instruction.includes('sleep')) setTimeout(() => controller.abort(), 500);
      },
    });
    await assert.rejects(build, (e: unknown) => e instanceof EngineError && e.kind === 'cancelled');
    await assert.rejects(engine.inspectImage(ref), (e: unknown) => e instanceof EngineError && e.kind === 'not-found');
  });

  it('says which Dockerfile line failed when a step fails', async function () {
    writeFileSync(join(context, 'Dockerfile.bad'), 'FROM scratch\nCOPY missing.txt /\n');
    await assert.rejects(engine.build({ contextDir: context, dockerfile: 'Dockerfile.bad', tags: [`${registry.host}/built/bad:v1`], networkMode: 'none' }),
      (e: unknown) => e instanceof EngineError && /missing\.txt/.test(e.message));
  });
});
