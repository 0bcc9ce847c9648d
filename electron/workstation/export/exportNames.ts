// Safe, collision-free names inside an export: tag names become single path segments that cannot
// climb out of the export folder, and two images with the same file name get distinct names.
import path from 'node:path';

const RESERVED_WINDOWS = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/** One path segment from any text: no separators, no `..`, no control or reserved characters. */
export function sanitiseSegment(text: string, fallback = '_'): string {
  let s = text
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_')
    .trim()
    .replace(/^\.+/, (dots) => '_'.repeat(dots.length))
    .replace(/[. ]+$/, '');
  if (s === '' || RESERVED_WINDOWS.test(s)) s = s ? `_${s}` : fallback;
  return s.length > 120 ? s.slice(0, 120) : s;
}

/** Folder names for tags: sanitised, and made distinct when two tags sanitise alike. */
export function tagFolderNames(tags: { id: number; name: string }[]): Map<number, string> {
  const used = new Set<string>(['negative', 'untagged']);
  const out = new Map<number, string>();
  for (const tag of [...tags].sort((a, b) => a.id - b.id)) {
    let name = sanitiseSegment(tag.name, `tag-${tag.id}`);
    if (used.has(name.toLowerCase())) name = `${name}-${tag.id}`;
    used.add(name.toLowerCase());
    out.set(tag.id, name);
  }
  return out;
}

/** Hands out file names per folder, deterministic in the order asked. */
export class FileNamer {
  private readonly used = new Map<string, Set<string>>();

  name(folder: string, relPath: string, contentHash: string): string {
    const taken = this.used.get(folder) ?? new Set<string>();
    this.used.set(folder, taken);
    const ext = path.posix.extname(relPath).toLowerCase();
    const stem = sanitiseSegment(path.posix.basename(relPath, path.posix.extname(relPath)), 'image');
    let candidate = `${stem}${ext}`;
    if (taken.has(candidate.toLowerCase())) candidate = `${stem}-${contentHash.slice(0, 8)}${ext}`;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++)
      candidate = `${stem}-${contentHash.slice(0, 8)}-${n}${ext}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  }

  /**
   * The heatmap overlay's name beside a named file: the whole file name (extension included, so
   * x.png and x.jpg get x.png.overlay.png and x.jpg.overlay.png) plus `.overlay.png`, made
   * distinct from every name already handed out in the folder.
   */
  overlay(folder: string, fileName: string): string {
    const taken = this.used.get(folder) ?? new Set<string>();
    this.used.set(folder, taken);
    let candidate = `${fileName}.overlay.png`;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${fileName}.overlay-${n}.png`;
    taken.add(candidate.toLowerCase());
    return candidate;
  }
}
