#!/usr/bin/env python3
"""Every ranking model of the framework on three data sets, in one table.

    python3 scripts/compare_baselines.py [--bin build/bin] [--out runs/compare] [--datasets ...]
                                         [--models ...] [--markdown docs/baselines.md]

For each data set and model it runs `train_ncf --config apps/configs/ml1m-<model>.json` with the
data section swapped for that data set (--set data.*), so each model keeps one set of
hyperparameters everywhere (tuned on ncf-ml-1m). NeuMF with pre-training loads the GMF and MLP runs
of the same data set, so those two run first. Each run folder is kept under --out/<data set>/<model>.

The table: HR@10 and NDCG@10 of the selected epoch under the paper's sampled protocol (the held-out
item among 99 sampled negatives) and under full ranking (among every item the user did not train
on), and the training time (the epochs' training seconds, evaluation excluded). Beside each sampled
HR@10 its rank among the models of that data set, and whether that is also its rank under full
ranking: sampled metrics can reorder models (Krichene and Rendle 2020).
Needs only the Python standard library and a built train_ncf.
"""
import argparse
import json
import os
import subprocess
import sys
import time

# Data sets: the --set assignments that replace the data section of an ncf-ml-1m config.
DATASETS = {
    "ml-100k": [
        "data.format=movielens-udata",
        "data.path=datasets/ml-100k/u.data",
        "data.split=leave_one_out",
    ],
    "ml-latest-small": [
        "data.format=movielens-csv",
        "data.path=datasets/ml-latest-small/ratings.csv",
        "data.split=leave_one_out",
    ],
    "ncf-ml-1m": [],  # the configs' own data section
}

# Models, in table order: (name, config in apps/configs, extra --set assignments).
MODELS = [
    ("ItemPop", "ml1m-itempop.json", []),
    ("GMF", "ml1m-gmf-f8.json", []),
    ("MLP", "ml1m-mlp-f8.json", []),
    ("NeuMF", "ml1m-neumf-f8.json", []),
    ("NeuMF+pre", "ml1m-neumf-f8-pretrain.json", ["pretrain"]),
    ("dot MF", "ml1m-dot.json", []),
    ("iALS", "ml1m-ials.json", []),
    ("EASE", "ml1m-ease.json", []),
]


def run_dir(out, dataset, model):
    return os.path.join(out, dataset, model.replace(" ", "-").replace("+", "-").lower())


def train(binary, out, dataset, name, config, extra):
    folder = run_dir(out, dataset, name)
    sets = list(DATASETS[dataset])
    if "pretrain" in extra:
        sets += ["model.pretrain.gmf=" + run_dir(out, dataset, "GMF"), "model.pretrain.mlp=" + run_dir(out, dataset, "MLP")]
    command = [os.path.join(binary, "train_ncf"), "--config", os.path.join("apps/configs", config), "--out", folder,
               "--overwrite", "--no-progress", "--quiet"]
    for s in sets:
        command += ["--set", s]
    print(f"[{time.strftime('%H:%M:%S')}] {dataset:16s} {name:10s} {' '.join(command[1:])}", flush=True)
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"train_ncf failed ({result.returncode}) for {dataset} / {name}:\n{result.stderr}")
    with open(os.path.join(folder, "metrics.json")) as f:
        metrics = json.load(f)
    best = metrics["best"]
    return {
        "dataset": dataset,
        "model": name,
        "config": config,
        "run": folder,
        "hr": best["hr@10"],
        "ndcg": best["ndcg@10"],
        "full_hr": best["full"]["hr@10"],
        "full_ndcg": best["full"]["ndcg@10"],
        "epoch": best["epoch"],
        "train_seconds": sum(e["seconds"] for e in metrics["epochs"]),
        "wall_seconds": time.time() - started,
        "device": metrics["device"],
    }


def ranks(rows, key):
    order = sorted(rows, key=lambda r: -r[key])
    return {r["model"]: order.index(r) + 1 for r in rows}


def table(results, datasets):
    lines = [
        "| data set | model | HR@10 sampled (rank, same under full?) | NDCG@10 sampled | HR@10 full | NDCG@10 full "
        "| training time |",
        "|---|---|---|---|---|---|---|",
    ]
    for dataset in datasets:
        rows = [r for r in results if r["dataset"] == dataset]
        sampled, full = ranks(rows, "hr"), ranks(rows, "full_hr")
        for r in rows:
            same = "yes" if sampled[r["model"]] == full[r["model"]] else f"no, {full[r['model']]} under full"
            lines.append(
                f"| {dataset} | {r['model']} | {r['hr']:.4f} ({sampled[r['model']]}, {same}) | {r['ndcg']:.4f} "
                f"| {r['full_hr']:.4f} | {r['full_ndcg']:.4f} | {r['train_seconds']:.1f} s |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="build/bin", help="folder of train_ncf (default build/bin)")
    parser.add_argument("--out", default="runs/compare", help="run folders go under here")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=[m[0] for m in MODELS], choices=[m[0] for m in MODELS])
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--json", help="also write every result to this JSON file")
    args = parser.parse_args()

    wanted = set(args.models)
    if "NeuMF+pre" in wanted:
        wanted |= {"GMF", "MLP"}  # its pre-trained parts
    results = []
    for dataset in args.datasets:
        for name, config, extra in MODELS:
            if name in wanted:
                results.append(train(args.bin, args.out, dataset, name, config, extra))
    text = table(results, args.datasets)
    devices = sorted({r["device"] for r in results})
    text += f"\n\nDevice: {', '.join(devices)}. Produced by `python3 scripts/compare_baselines.py`.\n"
    print()
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
