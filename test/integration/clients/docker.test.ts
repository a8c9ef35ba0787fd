import { strict as assert } from 'node:assert';
import type { Dockerd } from '../../support/dockerd';
import { dockerBuildScratch, expectedScratchOutput, skopeoDigest, useDockerdAndTools, type ContainerTools } from '../../support/clients';
import { TARGETS, type RunningRegistry } from './targets';

/** `docker push` ends with `<tag>: digest: sha256:… size: N`. */
function pushedDigest(output: string): string {
  const m = output.match(/digest: (sha256:[a-f0-9]{64}) size: \d+/);
  assert.ok(m?.[1], `docker push printed no digest:\n${output}`);
  return m[1];
}

describe('docker CLI push and pull', function () {
  const engine = useDockerdAndTools();

  for (const target of TARGETS) {
    describe(`against ${target.name}`, function () {
      let registry: RunningRegistry;
      let dockerd: Dockerd;
      let tools: ContainerTools;
      before(async function () {
        ({ dockerd, tools } = engine());
        registry = await target.start();
      });
      after(async function () {
        await registry?.stop();
      });

      it('pushes a multi-layer FROM-scratch image, pulls it back after rmi, and runs it', async function () {
        const ref = `${registry.host}/docker/three-layers:v1`;
        const opts = { layers: 3, label: `docker-${target.name}` };
        await dockerBuildScratch(dockerd, ref, opts);
        const digest = pushedDigest((await dockerd.docker(['push', ref])).stdout);
        assert.equal(await skopeoDigest(tools, ref), digest);

        await dockerd.docker(['rmi', ref]);
        const gone = await dockerd.docker(['image', 'inspect', ref]).then(() => 'present', () => 'absent');
        assert.equal(gone, 'absent');

        await dockerd.docker(['pull', ref]);
        const repoDigests = (await dockerd.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref])).stdout;
        assert.ok(repoDigests.includes(digest), `RepoDigests ${repoDigests} lack ${digest}`);
        const run = await dockerd.docker(['run', '--rm', '--network', 'none', ref]);
        assert.equal(run.stdout, expectedScratchOutput(opts));
      });

      it('mounts the layers into a second repository instead of uploading them again, and pulls that one by digest', async function () {
        const first = `${registry.host}/docker/shared-a:v1`;
        const second = `${registry.host}/docker/shared-b:v1`;
        const opts = { layers: 2, label: `mount-${target.name}` };
        await dockerBuildScratch(dockerd, first, opts);
        await dockerd.docker(['tag', first, second]);
        const digestA = pushedDigest((await dockerd.docker(['push', first])).stdout);
        // docker mounts layers it already pushed elsewhere on this registry instead of uploading them again.
        const pushB = (await dockerd.docker(['push', second])).stdout;
        const digestB = pushedDigest(pushB);
        assert.match(pushB, /Mounted from docker\/shared-a/, `no cross-repository mount:\n${pushB}`);
        assert.doesNotMatch(pushB, /: Pushed$/m, `a layer was uploaded again:\n${pushB}`);
        assert.equal(digestB, digestA);

        await dockerd.docker(['rmi', first, second]);
        const byDigest = `${registry.host}/docker/shared-b@${digestB}`;
        await dockerd.docker(['pull', byDigest]);
        const run = await dockerd.docker(['run', '--rm', '--network', 'none', byDigest]);
        assert.equal(run.stdout, expectedScratchOutput(opts));
      });

      it('moves a tag to a new image and pulls the new one', async function () {
        const ref = `${registry.host}/docker/moving:latest`;
        const before = { layers: 1, label: `old-${target.name}` };
        const after = { layers: 2, label: `new-${target.name}` };
        await dockerBuildScratch(dockerd, ref, before);
        const oldDigest = pushedDigest((await dockerd.docker(['push', ref])).stdout);
        await dockerBuildScratch(dockerd, ref, after);
        const newDigest = pushedDigest((await dockerd.docker(['push', ref])).stdout);
        assert.notEqual(newDigest, oldDigest);

        await dockerd.docker(['rmi', '--force', ref]);
        await dockerd.docker(['pull', ref]);
        const run = await dockerd.docker(['run', '--rm', '--network', 'none', ref]);
        assert.equal(run.stdout, expectedScratchOutput(after));
        assert.equal(await skopeoDigest(tools, ref), newDigest);
      });
    });
  }
});
