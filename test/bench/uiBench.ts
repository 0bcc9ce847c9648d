// Reviewer-UI benchmark in Chromium against serve mode (run by `npm run bench`, never by tests):
// on 1,000,000 images, the first grid page, scrolling the grid (95th-percentile frame time, cold
// and warm thumbnails), facet counts, a false-positive query's first page and the tag-and-advance
// round trip; on the demo run, switching method, opacity and colour map on a cached map and
// opening an image with a cached map. Prints each target as met or NOT met, then one JSON object.
// Scale with VSW_BENCH_UI_IMAGES (and VSW_BENCH_UI_DISTINCT, the distinct PNGs behind them).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM } from '../helpers/browser';
import { seedLargeDataset } from './benchData';

const root = path.resolve(__dirname, '..', '..');
const IMAGES = Number(process.env.VSW_BENCH_UI_IMAGES ?? 1_000_000);
const DISTINCT = Number(process.env.VSW_BENCH_UI_DISTINCT ?? 20_000);
const demo = path.join(root, 'models', 'demo', 'fashion-mnist');
const model = process.env.VSW_BENCH_MODEL ?? path.join(root, 'models', 'fashion-vit');
const vsw = path.join(root, 'bin', 'vsw.js');

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const median = (values: number[]) => percentile(values, 50);

function run(args: string[], dataDir: string): string {
  const r = spawnSync(process.execPath, [vsw, ...args, '--data-dir', dataDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vsw ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function serve(dataDir: string): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [vsw, 'serve', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /Serving at (\S+)/.exec(out);
      if (m) resolve({ url: m[1], stop: () => child.kill() });
    });
  });
}

/** Milliseconds from running `act` in the page until `ready` holds, checked every animation frame. */
async function timeInPage(page: Page, act: string, ready: string): Promise<number> {
  return page.evaluate(
    ([actSource, readySource]) =>
      new Promise<number>((resolve, reject) => {
        const isReady = new Function(`return (${readySource})`) as () => boolean;
        const start = performance.now();
        new Function(actSource)();
        const check = () => {
          if (isReady()) resolve(performance.now() - start);
          else if (performance.now() - start > 10_000) reject(new Error(`not ready: ${readySource}`));
          else requestAnimationFrame(check);
        };
        check();
      }),
    [act, ready],
  );
}

const key = (k: string) =>
  `window.dispatchEvent(new KeyboardEvent('keydown', { key: ${JSON.stringify(k)}, bubbles: true }))`;
const heatmapSignature = `(() => { const c = document.querySelector('canvas[aria-label="Heatmap"]'); if (!c) return ''; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let s = 0; for (let i = 0; i < d.length; i += 97) s = (s * 31 + d[i]) % 1000003; return s + ':' + c.style.opacity; })()`;

/** Page script that picks `value` in the select named `label`, as a user's change would. */
const choose = (label: string, value: string) =>
  `const s = document.querySelector('select[aria-label=${JSON.stringify(label)}]'); const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set; set.call(s, ${JSON.stringify(value)}); s.dispatchEvent(new Event('change', { bubbles: true }));`;
/** Page condition: a heatmap is drawn, and it is not the one whose signature was `before`. */
const redrawnSince = (before: string) =>
  `(${heatmapSignature}) !== ${JSON.stringify(before)} && (${heatmapSignature}) !== ''`;

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`skipped: Chromium not found at ${CHROMIUM}`);
    return;
  }
  if (!fs.existsSync(path.join(model, 'model.onnx'))) {
    console.log(`skipped: the bundled model is missing (${model})`);
    return;
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-ui-bench-'));
  const dataDir = path.join(scratch, 'data');
  // Each figure is printed as it is measured, so that a run that fails later still reports it.
  const results: Record<string, number | string> = new Proxy({} as Record<string, number | string>, {
    set(target, name, value: number | string) {
      target[name as string] = value;
      if (typeof value === 'number') console.log(`  measured ${String(name)}: ${value.toFixed(1)}`);
      return true;
    },
  });
  Object.assign(results, {
    images: IMAGES,
    cpus: os.cpus().length,
    machine: os.cpus()[0]?.model ?? '',
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  let server: { url: string; stop(): void } | null = null;
  try {
    const seeding = Date.now();
    await seedLargeDataset(dataDir, scratch, IMAGES, DISTINCT);
    results.seedSeconds = (Date.now() - seeding) / 1000;
    run(['import', demo, '--dataset', 'demo'], dataDir);
    run(['predict', '--dataset', 'demo', '--model', model], dataDir);
    server = await serve(dataDir);
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // tsx compiles the functions passed to page.evaluate with esbuild's name helper; give the page one.
    await page.addInitScript({ content: 'window.__name = (f) => f;' });
    await page.goto(server.url);

    // Scrolling the grid over all the images.
    await page.getByRole('combobox', { name: 'Dataset' }).selectOption({ label: 'large' });
    await page.getByRole('tab', { name: 'Review' }).click();
    const opened = Date.now();
    await page
      .getByRole('grid', { name: 'Images' })
      .getByRole('gridcell')
      .first()
      .waitFor({ timeout: 180_000 });
    results.firstGridPageMs = Date.now() - opened;
    // A fast flick over the whole grid, four rows per frame: the first pass makes the thumbnails
    // (cold cache, the service busy with sharp), the second is the reviewer coming back (warm).
    const flick = () =>
      page.evaluate(
        () =>
          new Promise<number[]>((resolve) => {
            const grid = document.querySelector('[role=grid]') as HTMLElement;
            grid.scrollTop = 0;
            const deltas: number[] = [];
            let last = performance.now();
            let n = 0;
            const step = () => {
              const now = performance.now();
              deltas.push(now - last);
              last = now;
              grid.scrollTop += 600;
              if (++n < 400) requestAnimationFrame(step);
              else resolve(deltas.slice(1));
            };
            requestAnimationFrame(step);
          }),
      );
    const cold = await flick();
    results.scrollColdFrameP95Ms = percentile(cold, 95);
    const frames = await flick();
    results.scrollFrameP95Ms = percentile(frames, 95);
    results.scrollFrameMedianMs = median(frames);

    // Facet counts: a class, everything, another class (each count differs from the one before),
    // until the count shows the new number.
    const total = `document.querySelector('output[aria-label="Matching images"]')?.textContent ?? ''`;
    const facetTimes: number[] = [];
    for (const c of ['class3', '', 'class7']) {
      const want = (c ? Math.ceil((IMAGES - Number(c.slice(5))) / 10) : IMAGES).toLocaleString('en-US');
      facetTimes.push(
        await timeInPage(
          page,
          choose('True class', c),
          `(${total}).startsWith(${JSON.stringify(want + ' ')})`,
        ),
      );
    }
    results.facetsMedianMs = median(facetTimes);
    results.facetsMaxMs = Math.max(...facetTimes);
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.waitForFunction(
      (want) => document.querySelector('output[aria-label="Matching images"]')?.textContent?.startsWith(want),
      `${IMAGES.toLocaleString('en-US')} `,
    );

    // A class's false positives: the first page of the grid (the counts follow separately).
    const firstCell = `document.querySelector('[role=gridcell]')?.getAttribute('data-path') ?? ''`;
    const fpTimes: number[] = [];
    for (const c of [2, 4, 6, 8, 1]) {
      await page.evaluate(choose('Error type', 'all'));
      await page.waitForTimeout(1500); // the counts of the previous filter finish first
      await page.evaluate(choose('Class', `class${c}`));
      const before = (await page.evaluate(firstCell)) as string;
      fpTimes.push(
        await timeInPage(
          page,
          choose('Error type', 'fp'),
          `(${firstCell}) !== ${JSON.stringify(before)} && (${firstCell}) !== ''`,
        ),
      );
    }
    results.fpQueryPageMedianMs = median(fpTimes);
    results.fpQueryPageMaxMs = Math.max(...fpTimes);
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.waitForTimeout(1500);

    // Tag-and-advance over the million: hotkey 1 then j, until the tag is saved (its count in the
    // tags panel, re-read from the service after the write, went up) and the next image is focused.
    await page.getByRole('textbox', { name: 'New tag' }).fill('bench pattern');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('checkbox', { name: 'bench pattern' }).waitFor();
    await page.getByRole('grid', { name: 'Images' }).getByRole('gridcell').first().click();
    const rounds: number[] = [];
    const tagCount = `Number(document.querySelector('input[aria-label="bench pattern"]').closest('li').querySelector('.muted').textContent)`;
    const focusedName = `document.querySelector('[role=gridcell].focused')?.getAttribute('data-path')`;
    for (let i = 0; i < 30; i++) {
      const count = (await page.evaluate(tagCount)) as number;
      const focused = (await page.evaluate(focusedName)) as string;
      rounds.push(
        await timeInPage(
          page,
          `${key('1')}; ${key('j')};`,
          `${tagCount} === ${count + 1} && ${focusedName} !== ${JSON.stringify(focused)}`,
        ),
      );
    }
    results.tagAndAdvanceMedianMs = median(rounds);
    results.tagAndAdvanceP95Ms = percentile(rounds, 95);

    // The image view on the demo run, with cached maps.
    await page.getByRole('combobox', { name: 'Dataset' }).selectOption({ label: 'demo' });
    await page.getByRole('grid', { name: 'Images' }).getByRole('gridcell').first().click();
    await page.keyboard.press('Enter');
    const methods = ['rollout', 'grad-rollout', 'last-attn', 'attn-grad-product'];
    for (const m of methods) {
      await page.getByRole('combobox', { name: 'Method' }).selectOption(m); // computes and caches each map once
      await page.waitForFunction(() =>
        document.querySelector('[aria-live=polite]')?.textContent?.includes('explaining'),
      );
      await page.waitForTimeout(200);
    }
    const switchTimes: Record<string, number[]> = { method: [], opacity: [], colourMap: [] };
    for (let i = 0; i < 8; i++) {
      const method = methods[i % methods.length];
      const before = (await page.evaluate(heatmapSignature)) as string;
      switchTimes.method.push(await timeInPage(page, choose('Method', method), redrawnSince(before)));
      const colour = ['jet', 'viridis', 'inferno', 'turbo'][i % 4];
      switchTimes.colourMap.push(
        await timeInPage(
          page,
          choose('Colour map', colour),
          redrawnSince((await page.evaluate(heatmapSignature)) as string),
        ),
      );
      const opacity = ['0.3', '0.4', '0.5', '0.6', '0.7'][i % 5];
      switchTimes.opacity.push(
        await timeInPage(
          page,
          `const s = document.querySelector('input[aria-label="Heatmap opacity"]'); const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set; set.call(s, ${JSON.stringify(opacity)}); s.dispatchEvent(new Event('input', { bubbles: true }));`,
          `document.querySelector('canvas[aria-label="Heatmap"]')?.style.opacity === ${JSON.stringify(opacity)}`,
        ),
      );
    }
    results.switchMethodMedianMs = median(switchTimes.method);
    results.switchColourMapMedianMs = median(switchTimes.colourMap);
    results.switchOpacityMedianMs = median(switchTimes.opacity);

    // Opening an image whose map the service has cached (not this window: the page is reloaded
    // first): compute the maps of six images once, reload, then open each with Enter.
    const OPENED = 6;
    const cell = (i: number) => page.getByRole('grid', { name: 'Images' }).getByRole('gridcell').nth(i);
    for (let i = 1; i <= OPENED; i++) {
      await page.keyboard.press('Escape');
      await cell(i).click();
      await page.keyboard.press('Enter');
      await timeInPage(page, '', `(${heatmapSignature}) !== ''`);
    }
    await page.reload();
    // The reload comes back to the open image (the view is in the URL): back to the grid first.
    await page.getByRole('region', { name: 'Image view' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('grid', { name: 'Images' }).waitFor();
    const opens: number[] = [];
    for (let i = 1; i <= OPENED; i++) {
      await cell(i).click();
      opens.push(await timeInPage(page, key('Enter'), `(${heatmapSignature}) !== ''`));
      await page.keyboard.press('Escape');
      await page.getByRole('grid', { name: 'Images' }).waitFor();
    }
    results.openCachedImageMedianMs = median(opens);
  } catch (error) {
    const page = browser.contexts()[0]?.pages()[0];
    if (page) await page.screenshot({ path: path.join(root, 'test-artifacts', 'ui-bench-failure.png') });
    throw error;
  } finally {
    server?.stop();
    await browser.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const rows: [string, keyof typeof results, number][] = [
    ['first grid page after opening the dataset', 'firstGridPageMs', 500],
    ['grid scroll, p95 frame, cold thumbnails', 'scrollColdFrameP95Ms', 20],
    ['grid scroll, p95 frame, warm', 'scrollFrameP95Ms', 20],
    ['facet counts (slowest of: a class, everything, a class)', 'facetsMaxMs', 1000],
    ['false positives of a class, first page (slowest of five)', 'fpQueryPageMaxMs', 50],
    ['switch method (cached map)', 'switchMethodMedianMs', 16],
    ['switch colour map', 'switchColourMapMedianMs', 16],
    ['switch opacity', 'switchOpacityMedianMs', 16],
    ['open image, map cached by the service', 'openCachedImageMedianMs', 100],
    ['tag-and-advance round trip (median)', 'tagAndAdvanceMedianMs', 60],
    ['tag-and-advance round trip (p95)', 'tagAndAdvanceP95Ms', 60],
  ];
  console.log(`\nUI bench (${IMAGES.toLocaleString()} images, ${results.machine}, ${results.cpus} cores)`);
  for (const [what, key, target] of rows) {
    const value = results[key] as number;
    const verdict = value < target ? 'met' : 'NOT met';
    console.log(
      `  ${what.padEnd(52)} ${value.toFixed(1).padStart(7)} ms   target < ${target} ms  ${verdict}`,
    );
  }
  console.log(JSON.stringify(results));
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
