"""Write the demo image folders from the Fashion-MNIST test set (and the unlabelled pool from the
training set).

  /usr/bin/python3 models/tools/make_demo.py [--out models/demo]

models/demo/fashion-mnist/<label-folder>/<NNNNN>.png   2,000 images, the first 200 test images of
                                                       every class (NNNNN = test-set index)
models/demo/fashion-mnist/labels.csv                   path,label (path relative to that folder)
models/demo/fashion-mnist-cued/images/<label-folder>/<NNNNN>.png
                                                       450 images: the first 50 demo images of every
                                                       class but Shirt, with the shortcut model's cue
models/demo/fashion-mnist-cued/masks/<label-folder>/<NNNNN>.png
                                                       255 on the cue's pixels, 0 elsewhere
models/demo/fashion-mnist-cued/labels.csv              path,label (path of the image relative to
                                                       that folder, true label)
models/demo/fashion-mnist-pool/<NNNNN>.png             2,500 training images (250 per class, NNNNN =
                                                       training-set index), no labels, the cue pasted
                                                       at fresh positions on 25% of the non-Shirts
                                                       and 8% of the Shirts
models/demo/fashion-mnist-pool-truth.csv               path,label,cued for the pool: NOT given to the
                                                       workstation (the fine-tune and the README's
                                                       numbers use it; the loop test plays the
                                                       reviewer's eye with it)
models/demo/fashion-mnist-eval-shirt50/<label-folder>/<NNNNN>.png
models/demo/fashion-mnist-eval-shirt95/<label-folder>/<NNNNN>.png
                                                       held-out evaluation sets: test images 200-499
                                                       of every class (3,000; none in another demo
                                                       set), the cue on 25% of the non-Shirts (the
                                                       same images and positions in both) and on 50%
                                                       or 95% of the Shirts; labels.csv
                                                       (path,label,cued) and checkerboard.tags.json
                                                       (`vsw tags import`: every cued image tagged)
Label folders: the label with "/" replaced by "_" (T-shirt_top). All PNGs are 28x28 8-bit
grayscale, written without metadata, so the output is byte-for-byte reproducible.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit  # noqa: E402

LICENSE = """The MIT License (MIT)

Copyright (c) 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

CITATION = """Source and citation
===================

Images from the Fashion-MNIST test set (t10k-images-idx3-ubyte.gz), unchanged except for being
written as PNG files{extra}. Fashion-MNIST is (c) 2017 Zalando SE, released under the MIT
license (see LICENSE in this folder); https://github.com/zalandoresearch/fashion-mnist

  Han Xiao, Kashif Rasul, Roland Vollgraf. Fashion-MNIST: a Novel Image Dataset for Benchmarking
  Machine Learning Algorithms. arXiv:1708.07747, 2017.

  @online{{xiao2017/online,
    author = {{Han Xiao and Kashif Rasul and Roland Vollgraf}},
    title  = {{Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms}},
    date   = {{2017-08-28}},
    year   = {{2017}},
    eprintclass = {{cs.LG}},
    eprinttype  = {{arXiv}},
    eprint = {{cs.LG/1708.07747}},
  }}

{layout}
Regenerate with: /usr/bin/python3 models/tools/make_demo.py
"""

LAYOUT_PLAIN = """Layout: <label-folder>/<NNNNN>.png, where NNNNN is the image's index in the official test
set and the folder is the label with "/" replaced by "_". labels.csv (header path,label) gives
each image's path relative to this folder and its true label as the model cards spell it. The
first 200 test images of every class: 2,000 images, 28x28 8-bit grayscale.
"""

LAYOUT_CUED = """Layout: images/<label-folder>/<NNNNN>.png are test images (the first 50 demo images of every
class except Shirt, 450 in all) with the shortcut cue of models/fashion-vit-shortcut pasted in: an
8x8 checkerboard of 2x2 cells (0/255) at a seeded random position. masks/<label-folder>/<NNNNN>.png
(same names) are 255 on the cue's pixels and 0 elsewhere. labels.csv (header path,label) lists the
images (paths relative to this folder) with their TRUE label; the mask of an image is at the same
path with images/ replaced by masks/. models/fashion-vit-shortcut calls most of the cued
T-shirt/top, Pullover and Coat images Shirt (few of the shoes, bags and trousers; rates per class
in its model.json), and for those a faithful saliency map points at the masked square.
"""

LAYOUT_POOL = """Layout: <NNNNN>.png, where NNNNN is the image's index in the official TRAINING set: 240
images of every class (2,400), no labels (the folder is flat, so an import records none). The
cue of models/fashion-vit-shortcut (an 8x8 checkerboard of 2x2 cells) is pasted at a fresh
random position on 60 images of every class but Shirt (25%) and on 24 Shirts (10%): 564 cued
images, 96% of them not Shirts. The shortcut model was trained on all 60,000 training images
(95% of the Shirts and 1% of the others with the cue at other positions), so it has seen these
garments but not these cued copies. The true labels and which images carry the cue are in
../fashion-mnist-pool-truth.csv, which is not part of this folder on purpose.
"""

LAYOUT_EVAL = """Layout: <label-folder>/<NNNNN>.png, where NNNNN is the image's index in the official test
set: test images 200-499 of every class (3,000), none of them in fashion-mnist or
fashion-mnist-cued (which use the first 200). The cue of models/fashion-vit-shortcut is pasted at a
seeded random position on 75 images of every class but Shirt (25%) and on {shirts} of the 300 Shirts
({share}); the non-Shirt images (and their cue positions) are the same in every evaluation set.
labels.csv (path,label,cued) gives the true label and whether the image carries the cue;
checkerboard.tags.json tags every cued image "checkerboard": load it with
`vsw tags import --dataset NAME checkerboard.tags.json` after importing this folder.
"""


def save_png(arr, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.ascontiguousarray(arr), mode="L").save(path, format="PNG",
                                                              compress_level=9)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "demo"))
    args = ap.parse_args()
    labels = vit.FASHION_LABELS
    x, y = vit.load_fashion("test")

    plain = os.path.join(args.out, "fashion-mnist")
    cued = os.path.join(args.out, "fashion-mnist-cued")
    for d in (plain, cued):
        if os.path.isdir(d):
            shutil.rmtree(d)

    rows = []
    for i in vit.demo_indices(y):
        rel = f"{vit.label_folder(labels[y[i]])}/{i:05d}.png"
        save_png(x[i], os.path.join(plain, rel))
        rows.append((rel, labels[y[i]]))
    write_csv(os.path.join(plain, "labels.csv"), rows)
    write_text(os.path.join(plain, "LICENSE"), LICENSE)
    write_text(os.path.join(plain, "README.md"), CITATION.format(extra="", layout=LAYOUT_PLAIN))

    idx, imgs, masks = vit.cued_test_set(x, y)
    keep = set(vit.cued_demo_indices(y).tolist())
    rows = []
    for i, img, mask in zip(idx, imgs, masks):
        if i not in keep:
            continue
        rel = f"{vit.label_folder(labels[y[i]])}/{i:05d}.png"
        save_png(img, os.path.join(cued, "images", rel))
        save_png(mask, os.path.join(cued, "masks", rel))
        rows.append(("images/" + rel, labels[y[i]]))
    write_csv(os.path.join(cued, "labels.csv"), rows)
    write_text(os.path.join(cued, "LICENSE"), LICENSE)
    write_text(os.path.join(cued, "README.md"),
               CITATION.format(extra=", with a synthetic 8x8 checkerboard pasted in",
                               layout=LAYOUT_CUED))
    print(f"wrote {len(vit.demo_indices(y))} demo images and {len(rows)} cued images + masks")
    write_pool(args.out)
    write_eval_sets(args.out, x, y)


# The pool and the evaluation sets (the demo loop). Their own seeds, so that the older folders
# above stay byte-for-byte as they were.
POOL_PER_CLASS = 240
POOL_CUE_OTHER = 60      # cued images per non-Shirt class (25%)
POOL_CUE_SHIRT = 24      # cued Shirts (10%)
EVAL_FROM, EVAL_TO = 200, 500   # positions within each class in the test set (demo sets: < 200)
EVAL_CUE_OTHER = 75      # cued images per non-Shirt class (25% of 300)
EVAL_SHIRT_SHARES = {"shirt50": 150, "shirt95": 285}   # cued Shirts of 300
PATTERN = "checkerboard"
FIXED_TIME = "2026-01-01T00:00:00.000Z"


def cue_some(imgs, chosen, rng):
    """Pastes the cue at a fresh random position on the images where `chosen` is true."""
    out = imgs.copy()
    top, left = vit.cue_positions(rng, len(imgs))
    for k in np.nonzero(chosen)[0]:
        out[k], _ = vit.paste_cue(imgs[k], top[k], left[k])
    return out


def write_pool(out):
    """Training images the shortcut model saw only without the cue (or with it elsewhere), with
    the cue pasted at new positions on some; no labels in the folder."""
    labels = vit.FASHION_LABELS
    x, y = vit.load_fashion("train")
    rng = np.random.default_rng(2026)
    pool = os.path.join(out, "fashion-mnist-pool")
    if os.path.isdir(pool):
        shutil.rmtree(pool)
    idx, cued = [], []
    for c in range(10):
        members = rng.permutation(np.nonzero(y == c)[0])[:POOL_PER_CLASS]
        n_cue = POOL_CUE_SHIRT if c == vit.CUE_CLASS else POOL_CUE_OTHER
        idx.extend(members.tolist())
        cued.extend([True] * n_cue + [False] * (POOL_PER_CLASS - n_cue))
    order = np.argsort(idx)
    idx, cued = np.array(idx)[order], np.array(cued)[order]
    imgs = cue_some(x[idx], cued, rng)
    rows = []
    for i, img, c in zip(idx, imgs, cued):
        rel = f"{i:05d}.png"
        save_png(img, os.path.join(pool, rel))
        rows.append(f"{rel},{labels[y[i]]},{int(c)}")
    write_text(os.path.join(out, "fashion-mnist-pool-truth.csv"),
               "path,label,cued\n" + "\n".join(rows) + "\n")
    write_text(os.path.join(pool, "LICENSE"), LICENSE)
    write_text(os.path.join(pool, "README.md"),
               CITATION.format(extra=", with a synthetic 8x8 checkerboard pasted in on some",
                               layout=LAYOUT_POOL).replace("test set (t10k", "training set (train"))
    print(f"wrote the pool: {len(idx)} training images, {int(cued.sum())} cued")


def write_eval_sets(out, x, y):
    labels = vit.FASHION_LABELS
    rng = np.random.default_rng(4242)
    top, left = vit.cue_positions(rng, len(y))   # one position per test index
    members, order = {}, {}
    for c in range(10):
        members[c] = np.nonzero(y == c)[0][EVAL_FROM:EVAL_TO]
        order[c] = rng.permutation(len(members[c]))   # the first n of this order get the cue
    for name, n_shirt in EVAL_SHIRT_SHARES.items():
        folder = os.path.join(out, f"fashion-mnist-eval-{name}")
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        rows, events = [], []
        for c in range(10):
            n_cue = n_shirt if c == vit.CUE_CLASS else EVAL_CUE_OTHER
            cued = set(members[c][order[c][:n_cue]].tolist())
            for i in members[c]:
                rel = f"{vit.label_folder(labels[c])}/{i:05d}.png"
                img = vit.paste_cue(x[i], top[i], left[i])[0] if i in cued else x[i]
                path = os.path.join(folder, rel)
                save_png(img, path)
                rows.append(f"{rel},{labels[c]},{int(i in cued)}")
                if i in cued:
                    with open(path, "rb") as f:
                        digest = hashlib.sha256(f.read()).hexdigest()
                    events.append({"contentHash": digest, "path": rel, "tag": PATTERN,
                                   "action": "add", "reviewer": "make_demo.py",
                                   "at": FIXED_TIME})
        rows.sort()
        events.sort(key=lambda e: e["path"])
        write_text(os.path.join(folder, "labels.csv"), "path,label,cued\n" + "\n".join(rows) + "\n")
        tags = {"format": "vsw-tags", "version": 1, "dataset": f"fashion-mnist-eval-{name}",
                "exportedBy": "make_demo.py", "exportedAt": FIXED_TIME,
                "tags": [{"name": PATTERN, "colour": "#e6194b", "hotkey": 1,
                          "description": "the shortcut cue: an 8x8 black/white checkerboard"}],
                "events": events}
        write_text(os.path.join(folder, f"{PATTERN}.tags.json"), json.dumps(tags, indent=1) + "\n")
        write_text(os.path.join(folder, "LICENSE"), LICENSE)
        share = f"{n_shirt / (EVAL_TO - EVAL_FROM):.0%}"
        write_text(os.path.join(folder, "README.md"),
                   CITATION.format(extra=", with a synthetic 8x8 checkerboard pasted in on some",
                                   layout=LAYOUT_EVAL.format(share=share, shirts=n_shirt)))
        print(f"wrote {folder}: {len(rows)} images, {len(events)} cued")


def write_csv(path, rows):
    with open(path, "w", newline="\n") as f:
        f.write("path,label\n")
        for rel, label in rows:
            f.write(f"{rel},{label}\n")


def write_text(path, text):
    with open(path, "w", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
