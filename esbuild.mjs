// Bundles: the extension and its lazily loaded parts (vscode is provided by the host), and the
// registry CLI, which runs as its own process and must never import vscode.
import * as esbuild from 'esbuild';
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/**
 * Writes each output whole and in one step: to a temporary file, then renamed over the old one, and only
 * when its content changed. A build runs while the registry CLI or an extension host may be starting from
 * dist/ (the test suite builds in one file while another spawns dist/registry.js); writing in place let such
 * a process read half a bundle and fail with a SyntaxError.
 * @type {esbuild.Plugin}
 */
const atomicWrite = {
  name: 'atomic-write',
  setup(b) {
    b.onEnd((result) => {
      for (const file of result.outputFiles ?? []) {
        let old;
        try {
          old = readFileSync(file.path);
        } catch {
          old = undefined;
        }
        if (old && Buffer.compare(old, file.contents) === 0) continue;
        mkdirSync(dirname(file.path), { recursive: true });
        const tmp = `${file.path}.${process.pid}.tmp`;
        writeFileSync(tmp, file.contents);
        renameSync(tmp, file.path);
      }
    });
  },
};

/** @type {esbuild.BuildOptions} */
const common = {
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

// The registry must stay vscode-free; fail the build if anything pulls it in.
/** @type {esbuild.Plugin} */
const noVscode = {
  name: 'no-vscode',
  setup(b) {
    b.onResolve({ filter: /^vscode$/ }, (a) => ({ errors: [{ text: `vscode imported by ${a.importer}: the registry must not depend on vscode` }] }));
  },
};

const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // Commands and the credentials layer (with yaml): loaded on the first command.
  { ...common, entryPoints: ['src/commands/lazyEntry.ts'], outfile: 'dist/commands.js', external: ['vscode'] },
  // The registry client behind the app layer's RegistryApi: loaded on the first tree expansion or command.
  { ...common, entryPoints: ['src/app/clientRegistryApi.ts'], outfile: 'dist/client.js', external: ['vscode'] },
  // The engine layer (dockerode, ssh2, grpc: ~2 MB) is its own bundle, loaded on first use, so
  // activation never parses it. ssh2 loads its optional native addons inside try/catch: leave them out.
  { ...common, entryPoints: ['src/engine/index.ts'], outfile: 'dist/engine.js', external: ['vscode', '*.node'] },
  { ...common, entryPoints: ['src/server/cli.ts'], outfile: 'dist/registry.js', banner: { js: '#!/usr/bin/env node' }, plugins: [noVscode] },
  // The registry's manifest parser thread, started from dist/registry.js by file name.
  { ...common, entryPoints: ['src/server/manifestWorker.ts'], outfile: 'dist/manifestWorker.js', plugins: [noVscode] },
  // Its password check threads (bcrypt), started the same way.
  { ...common, entryPoints: ['src/server/auth/passwordWorker.ts'], outfile: 'dist/passwordWorker.js', plugins: [noVscode] },
];

// Every bundle is written by atomicWrite (esbuild itself writes nothing: `write: false`).
for (const options of builds) options.plugins = [...(options.plugins ?? []), atomicWrite];

if (watch) {
  for (const options of builds) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
