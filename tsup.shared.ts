import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * The one tsup setup every package builds with: ESM, .d.ts, source maps (with our own sources
 * inside, since src/ is not published; never a dependency's), dependencies external.
 */
export function probunetTsupConfig(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    tsconfig: 'tsconfig.build.json',
    onSuccess: async () => stripForeignSourcesContent('dist'),
    ...overrides,
  });
}

/**
 * Drops the embedded text of every source outside the package's src/ from the source maps under
 * `dir` (what a build bundled from a dependency: tfjs-core's gradient files in core), keeping the
 * mappings. Files are replaced atomically.
 */
export function stripForeignSourcesContent(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.js.map')) continue;
    const file = `${dir}/${entry}`;
    const map = JSON.parse(readFileSync(file, 'utf8')) as { sources?: string[]; sourcesContent?: (string | null)[] };
    if (!map.sources || !map.sourcesContent) continue;
    let changed = false;
    map.sources.forEach((source, i) => {
      if (!/^(\.\.\/)+src\//.test(source) && map.sourcesContent![i] != null) {
        map.sourcesContent![i] = null;
        changed = true;
      }
    });
    if (!changed) continue;
    writeFileSync(`${file}.tmp`, JSON.stringify(map));
    renameSync(`${file}.tmp`, file);
  }
}

/**
 * tfjs-core's gradients, without a second tfjs-core. Its npm package registers no gradients (the
 * `@tensorflow/tfjs` union package does), and the only way to get them is its ESM files under dist/,
 * which Node cannot load (extensionless imports). Bundling `register_all_gradients` the plain way
 * pulls in ~230 of tfjs-core's modules (engine, tensors, ops) behind it. This plugin bundles the
 * gradient files themselves and answers every other tfjs-core module they import with the same
 * names from the installed `@tensorflow/tfjs-core` (external, a peer dependency): a module whose
 * exports the public API does not offer under the same name is bundled (a few internal ops such as
 * `avgPoolGrad`, which run through the one global engine). A module that holds state of its own
 * (the engine, the environment, the tensor class) is never bundled: importing a name of it that the
 * public API lacks fails the build.
 */
export function tfjsCoreGradientsPlugin(): Plugin {
  const require = createRequire(import.meta.url);
  const coreDist = dirname(require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js'));
  const tf = require('@tensorflow/tfjs-core') as Record<string, unknown>;
  const namespaces = ['util', 'backend_util', 'broadcast_util', 'slice_util', 'tensor_util', 'kernel_impls', 'io', 'math', 'browser', 'gather_util', 'scatter_util', 'device_util', 'serialization', 'image', 'linalg', 'losses', 'spectral', 'signal', 'sparse', 'string', 'train'];
  // Modules with state of their own: a bundled copy would not be the instance tfjs-core uses.
  const stateful = new Set(['engine.js', 'environment.js', 'global_util.js', 'kernel_registry.js', 'tape.js', 'profiler.js', 'tensor.js']);
  const special: Record<string, string> = {
    'engine.js': "import { engine } from '@tensorflow/tfjs-core';\nexport const ENGINE = engine();\n",
    'environment.js': "import { env as tfEnv } from '@tensorflow/tfjs-core';\nexport { Environment } from '@tensorflow/tfjs-core';\nexport const env = tfEnv;\nexport const ENV = tfEnv();\n",
    // tfjs-core keeps the class on globalThis and hands out the first one loaded: the installed one.
    'tensor.js': "import { Tensor } from '@tensorflow/tfjs-core';\nexport { Tensor, TensorBuffer, Variable } from '@tensorflow/tfjs-core';\nexport function getGlobalTensorClass() { return Tensor; }\n",
    'base.js': "export * from '@tensorflow/tfjs-core';\n",
    'index.js': "export * from '@tensorflow/tfjs-core';\n",
  };
  const exportNames = (file: string): string[] | null => {
    const text = readFileSync(file, 'utf8');
    if (/^export \* from/m.test(text)) return null;
    const names = new Set<string>();
    for (const m of text.matchAll(/^export (?:declare )?(?:async )?(?:function\*?|const|let|var|class|enum) ([A-Za-z_$][\w$]*)/gm)) names.add(m[1]!);
    for (const m of text.matchAll(/^export \{([^}]*)\}/gm)) for (const part of m[1]!.split(',')) { const name = part.trim().split(/\s+as\s+/).at(-1); if (name) names.add(name); }
    return [...names];
  };
  /** Re-exports of `names` from the public API; with `partial`, the names it lacks are left out. */
  const publicSource = (names: string[], partial = false): string | null => {
    const lines: string[] = [];
    for (const name of names) {
      if (name in tf) lines.push(`export { ${name} } from '@tensorflow/tfjs-core';`);
      else {
        const ns = namespaces.find((n) => typeof tf[n] === 'object' && tf[n] !== null && name in (tf[n] as object));
        if (ns) lines.push(`import { ${ns} as __${ns}_${name} } from '@tensorflow/tfjs-core';\nexport const ${name} = __${ns}_${name}.${name};`);
        else if (!partial) return null;
      }
    }
    return `${lines.join('\n')}\n`;
  };
  return {
    name: 'tfjs-core-gradients',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!args.importer.startsWith(`${coreDist}/`)) return undefined;
        const file = `${resolve(dirname(args.importer), args.path)}.js`;
        const rel = relative(coreDist, file);
        if (rel.startsWith('gradients/') || rel === 'register_all_gradients.js') return { path: file };
        return { path: file, namespace: 'tfjs-core-public' };
      });
      build.onLoad({ filter: /.*/, namespace: 'tfjs-core-public' }, (args) => {
        const rel = relative(coreDist, args.path);
        const replacement = special[rel];
        if (replacement !== undefined) return { contents: replacement, loader: 'js', resolveDir: coreDist };
        const names = exportNames(args.path);
        const contents = names && publicSource(names);
        if (contents) return { contents, loader: 'js', resolveDir: coreDist };
        // A stateful module offers what the public API has; importing any other name of it fails
        // the build ("No matching export"), which is the point.
        if (stateful.has(rel)) {
          if (!names) throw new Error(`tfjs-core's ${rel} re-exports with export *: list its names here`);
          return { contents: publicSource(names, true)!, loader: 'js', resolveDir: coreDist };
        }
        return { contents: readFileSync(args.path, 'utf8'), loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}
