#!/usr/bin/env bash
# Data-parallel scaling on the CPU: NeuMF f=8 on ml-100k expanded x4 users x4 items (400k ratings,
# 3772 users, 6728 items; generate_ratings --expand), trained for a few epochs by 1 rank and by 2
# MPI ranks with the same global batch. Prints each run's training samples/s (metrics.json: the
# epochs' rows over their seconds, sampling included, evaluation excluded) and the medians.
#   scripts/mpi_scaling.sh [BUILD_DIR] [EPOCHS] [REPEATS] [BATCH] [OPTIMIZER: adam | lazy_adam]
# Each rank runs one OpenMP thread, so 1 vs 2 ranks compares 1 core with 2.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
epochs=${2:-3}
repeats=${3:-3}
batch=${4:-1024}
optimizer=${5:-adam}
out=${OUT_DIR:-/tmp/ncf-mpi-scaling}
mkdir -p "$out"
data="$out/ml-100k-x4x4.csv"
[ -f "$data" ] || "$build/bin/generate_ratings" --expand datasets/ml-100k/u.data --format movielens-udata \
  --users-x 4 --items-x 4 --out "$data"
echo "NeuMF f=8 on $data: $epochs epochs, batch $batch, $optimizer; $(nproc) cores"
cat > "$out/config.json" <<JSON
{
  "data": { "format": "movielens-csv", "path": "$data", "split": "leave_one_out" },
  "model": { "type": "neumf", "factors": 8, "layers": [64, 32, 16, 8] },
  "train": { "epochs": $epochs, "batch_size": $batch, "optimizer": "$optimizer", "lr": 0.001, "negatives": 4,
             "seed": 42, "device": "cpu" },
  "eval": { "k": 10, "negatives": 99, "full_ranking": false, "every": $epochs, "seed": 7 }
}
JSON
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
root_flag=""
[ "$(id -u)" -eq 0 ] && root_flag="--allow-run-as-root"
rate() {  # samples/s of a run: all epochs' rows over all epochs' training seconds
  python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['epochs']; \
print('%.0f %.4f %.4f' % (sum(x['samples_per_s']*x['seconds'] for x in e)/sum(x['seconds'] for x in e), e[-1]['loss'], e[-1]['hr@10']))" "$1"
}
for ranks in 1 2; do
  rates=()
  for r in $(seq "$repeats"); do
    dir="$out/run-$ranks-$r"
    rm -rf "$dir"
    if [ "$ranks" -eq 1 ]; then
      "$build/bin/train_ncf" --config "$out/config.json" --out "$dir" --quiet
    else
      mpirun -np "$ranks" --oversubscribe --bind-to none $root_flag "$build/bin/train_ncf" \
        --config "$out/config.json" --out "$dir" --quiet
    fi
    read -r s loss hr < <(rate "$dir/metrics.json")
    echo "ranks $ranks run $r: $s samples/s (last loss $loss, hr@10 $hr; load average $(cut -d' ' -f1 /proc/loadavg))"
    rates+=("$s")
  done
  median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "ranks $ranks: median $median samples/s over $repeats runs"
done
