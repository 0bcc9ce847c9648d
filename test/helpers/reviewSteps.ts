// The steps every review loop in the browser takes: import a folder, run a model, create a tag.
import assert from 'node:assert/strict';
import type { Database } from 'better-sqlite3';
import type { Page } from 'playwright-core';

/** Imports `folder` from the Datasets view and waits for the report's "N added". */
export async function importFolder(page: Page, folder: string, added: number): Promise<void> {
  await page.getByRole('textbox', { name: 'Dataset folder' }).fill(folder);
  await page.getByRole('button', { name: 'Import' }).click();
  await page
    .getByRole('region', { name: 'Import report' })
    .getByText(`${added} added`)
    .waitFor({ timeout: 60_000 });
}

/** Runs the model folder (or .onnx file) on the open dataset and waits for the run to finish. */
export async function runModel(page: Page, model: string): Promise<void> {
  await page.getByRole('combobox', { name: 'Model' }).fill(model);
  await page.getByRole('button', { name: 'Run model' }).click();
  await page.getByRole('region', { name: 'Runs' }).getByText('done').waitFor({ timeout: 120_000 });
}

/** Creates a tag from the tags panel and leaves the text box (Escape), so hotkeys reach the grid. */
export async function createTag(page: Page, name: string): Promise<void> {
  await page.getByRole('textbox', { name: 'New tag' }).fill(name);
  await page.getByRole('button', { name: 'Add tag' }).click();
  await page.getByRole('checkbox', { name }).waitFor();
  await page.keyboard.press('Escape');
}

/** Waits until every thumbnail in the grid has loaded (thumbnails are made on first request). */
export async function waitForGridImages(page: Page): Promise<void> {
  await page.waitForFunction(
    () => [...document.querySelectorAll<HTMLImageElement>('[role=grid] img')].every((i) => i.complete),
    undefined,
    { timeout: 30_000 },
  );
}

/**
 * From the first candidate of the grid, confirms the first `count` candidates with the tag's
 * `key`, checking that each key press moves the focus on to the next candidate in rank order.
 */
export async function confirmByKey(
  page: Page,
  candidates: string[],
  count: number,
  key: string,
): Promise<void> {
  const grid = page.getByRole('grid', { name: 'Images' });
  await grid.getByRole('gridcell').first().click();
  for (let i = 0; i < count; i++) {
    assert.equal(await grid.locator('.cell.focused').getAttribute('data-path'), candidates[i]);
    await page.keyboard.press(key);
  }
  assert.equal(await grid.locator('.cell.focused').getAttribute('data-path'), candidates[count]);
}

/**
 * In Review, filters the false positives of `cls`, creates `tag` (hotkey 1) and tags the first
 * `count` of them by hotkey; returns their paths in grid order.
 */
export async function tagFalsePositives(
  page: Page,
  cls: string,
  tag: string,
  count: number,
): Promise<string[]> {
  await page.getByRole('tab', { name: 'Review' }).click();
  await page.getByRole('combobox', { name: 'Error type' }).selectOption({ label: 'False positives' });
  await page.getByRole('combobox', { name: 'Class', exact: true }).selectOption(cls);
  const grid = page.getByRole('grid', { name: 'Images' });
  const cells = grid.getByRole('gridcell');
  await cells.first().waitFor();
  await createTag(page, tag);
  await cells.first().click();
  const tagged: string[] = [];
  for (let i = 0; i < count; i++) {
    tagged.push((await grid.locator('.cell.focused').getAttribute('data-path'))!);
    await page.keyboard.press('1');
    await page.keyboard.press('ArrowRight');
  }
  return tagged;
}

/** The images marked "not this pattern" for `tag` in the store, by path. */
export function rejectedPaths(db: Database, tag: string): string[] {
  return db
    .prepare(
      'SELECT i.rel_path FROM pattern_rejections pr JOIN images i ON i.id = pr.image_id WHERE pr.tag = ?',
    )
    .pluck()
    .all(tag) as string[];
}
