// Real image files for tests, made with sharp: solid colours, gradients, and the bad-file zoo.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export async function writeImage(
  file: string,
  options: {
    width?: number;
    height?: number;
    colour?: [number, number, number];
    format?: 'png' | 'jpeg' | 'webp';
  } = {},
): Promise<void> {
  const { width = 32, height = 24, colour = [200, 80, 40], format = 'png' } = options;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // A diagonal gradient over the colour, so thumbnails are not one flat colour.
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const shade = (x + y) / (width + height);
      for (let c = 0; c < 3; c++) raw[(y * width + x) * 3 + c] = Math.round(colour[c] * (0.4 + 0.6 * shade));
    }
  }
  await sharp(raw, { raw: { width, height, channels: 3 } })
    .toFormat(format)
    .toFile(file);
}

/** A small ImageFolder dataset: two labels, a few images each, in several formats. */
export async function writeImageFolder(root: string): Promise<string[]> {
  const files = [
    ['cat/one.png', [220, 120, 40]],
    ['cat/two.jpg', [200, 60, 60]],
    ['dog/three.webp', [40, 140, 220]],
    ['dog/nested/four.png', [60, 200, 120]],
  ] as const;
  for (const [rel, colour] of files) {
    const format = rel.endsWith('.jpg') ? 'jpeg' : rel.endsWith('.webp') ? 'webp' : 'png';
    await writeImage(path.join(root, rel), { colour: [...colour], format });
  }
  return files.map(([rel]) => rel);
}

/** A valid small PNG whose header claims `width`×`height`: a decompression bomb for header readers. */
export async function writePixelBomb(file: string, width: number, height: number): Promise<void> {
  const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  // IHDR data starts at byte 16: width, height (big-endian); its CRC covers type + data (bytes 12..29).
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, png);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Every kind of file an import must skip with a reason, next to good images. Returns the bad paths. */
export async function writeBadFileZoo(root: string): Promise<string[]> {
  await writeImageFolder(root);
  fs.writeFileSync(path.join(root, 'notes.txt'), 'not an image');
  fs.writeFileSync(path.join(root, 'cat', 'fake.png'), 'this is text pretending to be a PNG');
  fs.writeFileSync(path.join(root, 'cat', 'empty.png'), '');
  const good = fs.readFileSync(path.join(root, 'cat', 'one.png'));
  fs.writeFileSync(path.join(root, 'dog', 'truncated.png'), good.subarray(0, Math.floor(good.length / 2)));
  const jpeg = fs.readFileSync(path.join(root, 'cat', 'two.jpg'));
  fs.writeFileSync(path.join(root, 'dog', 'truncated.jpg'), jpeg.subarray(0, jpeg.length - 40));
  await writePixelBomb(path.join(root, 'dog', 'bomb.png'), 30000, 30000);
  fs.writeFileSync(path.join(root, 'photo.heic'), 'ftypheic');
  fs.symlinkSync(path.join(root, 'does-not-exist.png'), path.join(root, 'broken-link.png'));
  fs.symlinkSync('.', path.join(root, 'dog', 'loop'));
  return [
    'notes.txt',
    'cat/fake.png',
    'cat/empty.png',
    'dog/truncated.png',
    'dog/truncated.jpg',
    'dog/bomb.png',
    'photo.heic',
    'broken-link.png',
    'dog/loop',
  ];
}
