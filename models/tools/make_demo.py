"""Write the demo image folders from the Fashion-MNIST test set.

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
Label folders: the label with "/" replaced by "_" (T-shirt_top). All PNGs are 28x28 8-bit
grayscale, written without metadata, so the output is byte-for-byte reproducible.
"""
import argparse
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
