/**
 * The built site in Debian's Chromium (playwright-core, headless), once on WebGPU with SwiftShader's
 * software adapter and once forced to wasm: load the bundled models, draw samples, move a latent
 * slider, score a drawn annotation, open a corrupt checkpoint, and check the backend indicator.
 * Screenshots and timings go to apps/web/test-output/. Tests the built dist/: `npm test` builds it
 * first (`vite build && vitest run`); run alone, this file builds the site only when dist/ is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(appDir, '..', '..');
const outDir = join(appDir, 'test-output');
const CHROMIUM = '/usr/bin/chromium';
/** Headless Chromium as root in a container, without background traffic. */
const BASE_FLAGS = ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-extensions'];
/** WebGPU on SwiftShader, Chromium's software Vulkan: all this needs (Chromium 156, Debian 12). */
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];
const SAMPLES = 8;

let server: PreviewServer;
let baseUrl: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    // The project's own installer (Debian's chromium; Playwright's browser download cannot reach its host here).
    execFileSync('bash', [join(repoRoot, 'scripts', 'install-chromium.sh')], { stdio: 'inherit' });
  }
  if (!existsSync(join(appDir, 'dist', 'index.html'))) execFileSync('npx', ['vite', 'build'], { cwd: appDir, stdio: 'inherit' });
  mkdirSync(outDir, { recursive: true });
  server = await preview({ root: appDir, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview gave no local address');
  baseUrl = url;
}, 300_000);

afterAll(async () => {
  await server?.close();
});

/** Every picture in a grid, as PNG data URLs (one per sample canvas). */
const gridPictures = (page: Page, id: string) =>
  page.$$eval(`#${id} canvas`, (cs) => (cs as HTMLCanvasElement[]).map((c) => c.toDataURL()));

async function idle(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.busy === 'false', undefined, { timeout: 300_000 });
}

/** Waits until the condition holds or the page shows an error (then fails with that error's text). */
async function waitOrError(page: Page, condition: string, timeout = 300_000): Promise<void> {
  await page.waitForFunction(`(${condition}) || !document.getElementById('error').hidden`, undefined, { timeout });
  await expectNoError(page);
}

async function expectNoError(page: Page): Promise<void> {
  const error = await page.$eval('#error', (e) => ((e as HTMLElement).hidden ? '' : e.textContent));
  expect(error, 'the page shows an error').toBe('');
}

for (const backend of ['webgpu', 'wasm'] as const) {
  describe(`the built site on ${backend} (Chromium, headless)`, () => {
    let browser: Browser;
    let page: Page;
    const timings: Record<string, unknown> = { backend, date: new Date().toISOString() };
    const shot = (name: string) => page.screenshot({ path: join(outDir, `${backend}-${name}.png`), fullPage: true });

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_FLAGS, ...(backend === 'webgpu' ? WEBGPU_FLAGS : [])] });
      page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      page.on('pageerror', (err) => console.error(`[${backend} page error]`, err.message));
      timings.chromium = browser.version();
      timings.flags = [...BASE_FLAGS, ...(backend === 'webgpu' ? WEBGPU_FLAGS : [])];
    }, 120_000);

    afterAll(async () => {
      writeFileSync(join(outDir, `${backend}-timings.json`), `${JSON.stringify(timings, null, 2)}\n`);
      console.log(`[${backend}] ${JSON.stringify(timings)}`);
      await browser?.close();
    });

    it('starts the backend it was asked for, says so, and loads the bundled models', async () => {
      if (backend === 'webgpu') {
        // Said explicitly rather than passing on a fallback: without an adapter this run is not a WebGPU run.
        await page.goto(baseUrl);
        const adapter = await page.evaluate(async () => {
          const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> } }).gpu;
          if (!gpu) return 'no navigator.gpu';
          const a = await gpu.requestAdapter();
          return a ? `${a.info?.vendor} / ${a.info?.architecture}` : 'no adapter';
        });
        expect(adapter, `WebGPU in ${CHROMIUM} with ${WEBGPU_FLAGS.join(' ')} found no software adapter`).toMatch(/swiftshader/);
        timings.adapter = adapter;
      }
      const t0 = Date.now();
      await page.goto(`${baseUrl}?backend=${backend}`);
      await waitOrError(page, `document.body.dataset.ready === 'true'`);
      await idle(page);
      await expectNoError(page);
      timings.loadMs = Date.now() - t0;
      expect(await page.getAttribute('#backend-status', 'data-backend')).toBe(backend);
      const status = await page.textContent('#backend-status');
      expect(status).toContain(`Running on ${backend}`);
      if (backend === 'webgpu') expect(status).toMatch(/swiftshader/);
      // The backends not running each say why.
      const others = await page.$$eval('#backend-attempts li[data-backend]', (lis) => lis.map((li) => li.textContent ?? ''));
      expect(others).toHaveLength(2);
      for (const o of others) expect(o).toMatch(/not requested \(you chose /);
      expect(await page.textContent('#model-info')).toMatch(/Prob\. U-Net: prob-unet .*comparison: deterministic-unet/);

      await page.fill('#sample-count', String(SAMPLES));
      await page.click('#sample-button');
      await waitOrError(page, `document.querySelector('#det-grid[data-count="${SAMPLES}"]') && document.querySelector('#sample-grid[data-count="${SAMPLES}"]')`);
      await idle(page);
      timings.firstSamplesMs = Date.now() - t0;
      timings.sampleBatchMs = Number(await page.getAttribute('#sample-time', 'data-ms'));
      await expectNoError(page);
      await shot('samples');
    });

    it("draws samples that differ from one another; the deterministic U-Net's do not", async () => {
      const prob = await gridPictures(page, 'sample-grid');
      const det = await gridPictures(page, 'det-grid');
      expect(prob).toHaveLength(SAMPLES);
      expect(det).toHaveLength(SAMPLES);
      timings.distinctSamples = new Set(prob).size;
      expect(new Set(prob).size).toBeGreaterThan(1);
      expect(new Set(det).size).toBe(1);
      // And the timing the page shows names the backend that ran.
      expect(await page.textContent('#sample-time')).toContain(`on ${backend}`);
      // A second batch: the first one also compiled the backend's kernels (shaders, on webgpu).
      const tensorsAfterFirst = await page.getAttribute('#memory', 'data-tensors');
      const batches = Number(await page.getAttribute('#sample-time', 'data-batches'));
      await page.click('#sample-button');
      await page.waitForSelector(`#sample-time[data-batches="${batches + 1}"]`, { timeout: 300_000 });
      await idle(page);
      await expectNoError(page);
      timings.secondSampleBatchMs = Number(await page.getAttribute('#sample-time', 'data-ms'));
      expect(await gridPictures(page, 'sample-grid')).toHaveLength(SAMPLES);
      expect(new Set(await gridPictures(page, 'det-grid')).size).toBe(1);
      // Another batch leaves no tensor behind.
      expect(await page.getAttribute('#memory', 'data-tensors')).toBe(tensorsAfterFirst);
    });

    it('moves a latent slider and the segmentation changes', async () => {
      const dims = await page.$$eval('input.latent', (els) => els.length);
      expect(dims).toBe(6);
      const moveMs: number[] = [];
      const tensors: number[] = [];
      let changed = -1;
      let moves = 0;
      const render = async (dim: number, key: 'Home' | 'End') => {
        await page.focus(`#latent-${dim}`);
        await page.keyboard.press(key);
        moves++;
        await waitOrError(page, `document.querySelector('#latent-time[data-moves="${moves}"]')`, 120_000);
        moveMs.push(Number(await page.getAttribute('#latent-time', 'data-ms')));
        tensors.push(Number(await page.getAttribute('#memory', 'data-tensors')));
        return page.$eval('#latent-output', (c) => (c as HTMLCanvasElement).toDataURL());
      };
      // Not every latent dimension need matter for this image: walk them until one changes the answer.
      for (let d = 0; d < dims && changed < 0; d++) {
        const low = await render(d, 'Home');
        const high = await render(d, 'End');
        if (low !== high) changed = d;
        await page.focus(`#latent-${d}`);
      }
      timings.sliderDimensionThatChanged = changed + 1;
      expect(changed, 'no latent dimension changed the segmentation between −3σ and +3σ').toBeGreaterThanOrEqual(0);
      // Two more moves of that dimension: the picture follows the slider back and forth.
      const back = await render(changed, 'Home');
      const forth = await render(changed, 'End');
      expect(back).not.toBe(forth);
      await expectNoError(page);
      // The first move allocates the prepared features; later moves allocate nothing that stays.
      expect(new Set(tensors.slice(1)).size, `tensors held after each move: ${tensors.join(', ')}`).toBe(1);
      timings.sliderMoves = moveMs.length;
      // The first move prepares the image's features; the rest run only the fusion head.
      timings.firstSliderMoveMs = moveMs[0];
      const rest = moveMs.slice(1).sort((a, b) => a - b);
      timings.sliderMoveMedianMs = rest[Math.floor(rest.length / 2)];
      await shot('latent');
    });

    it('scores a drawn annotation beside the graders', async () => {
      const box = (await page.$('#draw-canvas'))!;
      await box.scrollIntoViewIfNeeded();
      const b = (await box.boundingBox())!;
      // A stroke along the top-left corner, where the examples have no lesion.
      await page.mouse.move(b.x + 6, b.y + 6);
      await page.mouse.down();
      await page.mouse.move(b.x + b.width * 0.35, b.y + 8, { steps: 8 });
      await page.mouse.up();
      await page.click('#score-button');
      await waitOrError(page, `document.querySelectorAll('#score-table tbody tr').length === 5`);
      await idle(page);
      await expectNoError(page);
      const rows = await page.$$eval('#score-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent ?? '')));
      expect(rows.map((r) => r[0])).toEqual(['your annotation', 'grader 1', 'grader 2', 'grader 3', 'grader 4']);
      const ll = rows.map((r) => Number(r[2]));
      for (const v of ll) expect(Number.isFinite(v)).toBe(true);
      // A stroke away from the blob is far less plausible than any grader's annotation.
      expect(ll[0]!).toBeLessThan(Math.min(...ll.slice(1)));
      await shot('score');
    });

    it('explains a corrupt checkpoint in the page and keeps running', async () => {
      const good = readFileSync(join(appDir, 'public', 'models', 'prob-unet.ckpt'));
      await page.setInputFiles('#checkpoint-file', { name: 'corrupt.ckpt', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a checkpoint at all, just text') });
      await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
      expect(await page.textContent('#error')).toMatch(/corrupt\.ckpt is not a probunet checkpoint \(bad magic bytes\)/);
      await shot('corrupt-checkpoint');
      // A real checkpoint cut short: its CRC or length check names the problem.
      await page.setInputFiles('#checkpoint-file', { name: 'truncated.ckpt', mimeType: 'application/octet-stream', buffer: good.subarray(0, good.byteLength - 1000) });
      await page.waitForFunction(() => /truncated\.ckpt/.test(document.getElementById('error')?.textContent ?? ''), undefined, { timeout: 60_000 });
      expect(await page.textContent('#error')).toMatch(/truncated\.ckpt .*(truncated|CRC|size|bytes)/);
      // The models loaded before are untouched and still run on the same backend.
      expect(await page.textContent('#model-info')).toMatch(/prob-unet from prob-unet\.ckpt \(bundled\)/);
      expect(await page.getAttribute('#backend-status', 'data-backend')).toBe(backend);
      expect(await page.evaluate(() => document.body.dataset.busy)).toBe('false');
    });

    it('explains an image of the wrong size or colour in the page', async () => {
      const png = async (w: number, h: number, colour: string) =>
        Buffer.from(
          (
            await page.evaluate(
              ([w, h, colour]) => {
                const c = document.createElement('canvas');
                c.width = w as number;
                c.height = h as number;
                const ctx = c.getContext('2d')!;
                ctx.fillStyle = colour as string;
                ctx.fillRect(0, 0, c.width, c.height);
                return c.toDataURL('image/png');
              },
              [w, h, colour] as const,
            )
          ).split(',')[1]!,
          'base64',
        );
      await page.setInputFiles('#image-file', { name: 'odd.png', mimeType: 'image/png', buffer: await png(30, 30, '#808080') });
      await page.waitForFunction(() => /odd\.png|30×30/.test(document.getElementById('error')?.textContent ?? ''), undefined, { timeout: 60_000 });
      expect(await page.textContent('#error')).toMatch(/this image is 30×30; .* multiples of 4/);
      await page.setInputFiles('#image-file', { name: 'colour.png', mimeType: 'image/png', buffer: await png(32, 32, '#ff8000') });
      await page.waitForFunction(() => /colour\.png/.test(document.getElementById('error')?.textContent ?? ''), undefined, { timeout: 60_000 });
      expect(await page.textContent('#error')).toMatch(/colour\.png has colour .* the models take one grey channel/);
    });

    it('switches to the cpu backend when asked, rebuilds the models there and says so', async () => {
      await page.selectOption('#backend-select', 'cpu');
      await waitOrError(page, `document.getElementById('backend-status').dataset.backend === 'cpu' && document.body.dataset.busy === 'false'`);
      expect(await page.textContent('#backend-status')).toContain('Running on cpu');
      const others = await page.$$eval('#backend-attempts li[data-backend]', (lis) => lis.map((li) => li.getAttribute('data-backend')));
      expect(others.sort()).toEqual(['wasm', 'webgpu']);
      await page.fill('#sample-count', '2');
      await page.click('#sample-button');
      await waitOrError(page, `document.querySelector('#sample-grid[data-count="2"]') && document.body.dataset.busy === 'false'`);
      expect(await page.textContent('#sample-time')).toContain('on cpu');
    });
  });
}
