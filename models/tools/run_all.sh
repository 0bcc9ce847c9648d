#!/bin/sh
# Rebuild everything under models/ and test/fixtures/ from the Debian packages alone.
# Every step is resumable: a finished training is skipped, an interrupted one resumes from its
# last epoch checkpoint in models/.work/ (git-ignored).
#   sh models/tools/run_all.sh            (from the repository root; ~1.5 h on 1 CPU thread)
set -e
cd "$(dirname "$0")/../.."
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PY=/usr/bin/python3
$PY models/tools/make_demo.py
$PY models/tools/make_fixtures.py
$PY models/tools/train.py --variant clean --work models/.work/fashion-vit --budget-min 48
$PY models/tools/finish_model.py --variant clean --work models/.work/fashion-vit --out models/fashion-vit
$PY models/tools/train.py --variant shortcut --work models/.work/fashion-vit-shortcut \
    --budget-min 30 --min-epochs 4 --max-epochs 8
$PY models/tools/finish_model.py --variant shortcut --work models/.work/fashion-vit-shortcut \
    --out models/fashion-vit-shortcut --clean models/fashion-vit
