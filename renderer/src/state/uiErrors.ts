// The core's messages name command-line flags (they serve `vsw` too); in the window they name the
// controls the reviewer sees instead.
const REPLACEMENTS: [RegExp, string][] = [
  [/--model (\S+) is/g, 'The model “$1” (Model box) is'],
  [/--model\b/g, 'the Model box'],
  [/give --run RUN \(runId in the query\)/g, 'choose one in the Run picker'],
  [/give runId \(--run RUN\)/g, 'choose one in the Run picker'],
  [/give --run RUN/g, 'choose one in the Run picker'],
  [/--overlays/g, 'Heatmap overlays'],
  [/choose another --out/g, 'choose another Destination folder'],
  [/--out\b/g, 'Destination folder'],
  [/use --media copy or symlink/g, 'choose Media: Copy or Symbolic link'],
  [/--media\b/g, 'Media'],
  [/--target\b/g, 'Target class'],
  [/--masks\b/g, 'mask folder'],
  // vsw compare's refusals
  [/re-run the same `vsw predict` command or `vsw jobs resume` its job/g, 'Resume it under Datasets'],
  [/with --recall R/g, 'in the Recall to match field'],
  [/\(`--split test`\)/g, '(Images: test split)'],
  [/`vsw jobs delete`/g, 'Delete in the Jobs panel'],
  [/ \(`vsw [^`]*`\)/g, ''],
  [/`vsw import`/g, 'Import under Datasets'],
  [/`vsw predict`/g, 'Run model under Datasets'],
];

export function uiError(message: string): string {
  let text = message;
  for (const [pattern, replacement] of REPLACEMENTS) text = text.replace(pattern, replacement);
  return text.charAt(0).toUpperCase() + text.slice(1);
}
