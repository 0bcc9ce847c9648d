// Generated benchmark data: many small distinct PNGs in ten ImageFolder classes.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export async function generateImages(root: string, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const k = next++;
      const file = path.join(root, `class${k % 10}`, `${String(k).padStart(6, '0')}.png`);
      if (k % 1000 === 0) fs.mkdirSync(path.dirname(file), { recursive: true });
      const raw = Buffer.alloc(16 * 16);
      for (let i = 0; i < raw.length; i++) raw[i] = (k * 31 + i * 7) & 255;
      raw.writeUInt32LE(k, 0); // unique content
      await sharp(raw, { raw: { width: 16, height: 16, channels: 1 } })
        .png()
        .toFile(file);
    }
  };
  for (let c = 0; c < 10; c++) fs.mkdirSync(path.join(root, `class${c}`), { recursive: true });
  await Promise.all(Array.from({ length: 8 }, worker));
}
