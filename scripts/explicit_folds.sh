#!/usr/bin/env bash
# The classic explicit-rating protocol on ml-100k: train on uK.base, test on uK.test for K = 1..5,
# and report each fold's RMSE / MAE and their means.
#   scripts/explicit_folds.sh [config] [extra train_ncf arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-apps/configs/ml-100k-mf.json}"
shift || true
bin="${NCF_BIN:-build/bin}"
out="runs/$(basename "$config" .json)-folds-$(date +%Y%m%d-%H%M%S)"
for k in 1 2 3 4 5; do
  "$bin/train_ncf" --config "$config" --quiet --out "$out/u$k" \
    --set data.path=datasets/ml-100k/u$k.base --set data.test_path=datasets/ml-100k/u$k.test "$@"
done
python3 - "$out" <<'PY'
import json, sys
rows = [json.load(open(f"{sys.argv[1]}/u{k}/metrics.json"))["best"] for k in range(1, 6)]
for k, r in enumerate(rows, 1):
    print(f"u{k}: best epoch {r['epoch']:2d}  rmse {r['rmse']:.4f}  mae {r['mae']:.4f}")
print(f"mean: rmse {sum(r['rmse'] for r in rows) / 5:.4f}  mae {sum(r['mae'] for r in rows) / 5:.4f}")
PY
