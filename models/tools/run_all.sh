#!/bin/sh
# Rebuild everything under models/ and test/fixtures/ from the Debian packages alone, with the
# exact recipe of the committed files. Every training step is resumable: a finished run is
# skipped, an interrupted one resumes from its last epoch checkpoint in models/.work/
# (git-ignored).
#   sh models/tools/run_all.sh        (from the repository root; ~1.5-2 h on 1 CPU thread)
set -e
cd "$(dirname "$0")/../.."
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=/usr/bin/python3
$PY models/tools/make_demo.py
$PY models/tools/make_fixtures.py
# fashion-vit: 7 epochs with crop augmentation, then 5 + 3 epochs without augmentation
$PY models/tools/train.py --variant clean --work models/.work/fashion-vit --epochs 7
$PY models/tools/train.py --variant clean --work models/.work/fashion-vit-cont \
    --init models/.work/fashion-vit/final.pt --epochs 5 --lr 3e-4 --warmup-epochs 0 --pad 0
$PY models/tools/train.py --variant clean --work models/.work/fashion-vit-cont2 \
    --init models/.work/fashion-vit-cont/final.pt --epochs 3 --lr 2e-4 --warmup-epochs 0 --pad 0
$PY models/tools/finish_model.py --variant clean --work models/.work/fashion-vit-cont2 \
    --out models/fashion-vit
# fashion-vit-shortcut: 2 epochs on the cued training set, from the fashion-vit weights
$PY models/tools/train.py --variant shortcut --work models/.work/fashion-vit-shortcut \
    --init models/.work/fashion-vit-cont2/final.pt --epochs 2 --lr 5e-4 --warmup-epochs 0 --pad 0
$PY models/tools/finish_model.py --variant shortcut --work models/.work/fashion-vit-shortcut \
    --out models/fashion-vit-shortcut --clean models/fashion-vit
# fashion-vit-fixed (the demo loop): the loop test exports the 20 tagged cued images and the
# confirmed pool images through the CLI and keeps the export, then the fine-tune reads it
[ -f models/.work/loop-export/manifest.jsonl ] || { npm run build && \
    VSW_DEMO_LOOP_KEEP=models/.work/loop-export node --import tsx --test \
    test/integration/demoLoop.test.ts || test -f models/.work/loop-export/manifest.jsonl; }
$PY models/tools/finetune.py --export models/.work/loop-export --init models/fashion-vit-shortcut \
    --work models/.work/fashion-vit-fixed
$PY models/tools/finish_model.py --variant fixed --work models/.work/fashion-vit-fixed \
    --out models/fashion-vit-fixed
