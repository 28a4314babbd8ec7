#!/usr/bin/env python3
"""One user's top-K items from a run folder, with the safetensors and numpy packages alone.

Reproduces `recommend --run RUN --user USER -k K`: the same scores (up to float rounding: this
computes in float64) and the same order (larger score first, equal scores by ascending dense item
id), the items the user trained on left out. Prints CSV like `recommend --all`:
user,rank,item,score,title.

    pip install safetensors numpy
    python3 examples/recommend_from_run.py runs/my-run 196 -k 10

What it reads (recsys/run_folder.h has the layout):
  config.json        model.type (gmf, mlp, neumf, itempop), model.factors, model.layers
  model.safetensors  the best epoch's parameters: gmf.user (users, f), gmf.item (items, f);
                     mlp.user, mlp.item (users or items, layers[0] / 2); mlp.<i>.weight (in, out),
                     mlp.<i>.bias (out,); out.weight (in, 1), out.bias (1,)
  ids.json           "users", "items": the raw ids by dense id; "titles": raw item id -> title
  seen.safetensors   "offsets" (users + 1,), "items": user u's training items, as dense ids, are
                     items[offsets[u]:offsets[u + 1]]
The scores (recsys/models.h) of user u for every item at once; weights are stored (in, out):
  GMF:    (p_u * Q) @ w + b
  MLP:    h = [p_u ; q_i] for every item i; h = relu(h @ W + b) for each tower layer; h @ w + b
  NeuMF:  [p_u * Q ; MLP tower] @ w + b, with its own gmf.* and mlp.* embeddings
  ItemPop: the number of training rows of each item
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file


def tower(params, user_row, item_table):
    """The MLP branch: [p_u ; q_i] through the ReLU layers mlp.0, mlp.1, ... for every item."""
    h = np.hstack([np.repeat(user_row[None, :], len(item_table), axis=0), item_table])
    layer = 0
    while f"mlp.{layer}.weight" in params:
        h = np.maximum(h @ params[f"mlp.{layer}.weight"] + params[f"mlp.{layer}.bias"], 0.0)
        layer += 1
    return h


def scores_for_user(model_type, params, seen_items, num_items, user):
    """Every item's score for dense user `user` (float64, shape (items,))."""
    if model_type == "itempop":
        return np.bincount(seen_items, minlength=num_items).astype(np.float64)
    out_w, out_b = params["out.weight"][:, 0], params["out.bias"][0]
    if model_type == "gmf":
        return (params["gmf.user"][user] * params["gmf.item"]) @ out_w + out_b
    if model_type == "mlp":
        return tower(params, params["mlp.user"][user], params["mlp.item"]) @ out_w + out_b
    if model_type == "neumf":
        gmf = params["gmf.user"][user] * params["gmf.item"]
        mlp = tower(params, params["mlp.user"][user], params["mlp.item"])
        return np.hstack([gmf, mlp]) @ out_w + out_b
    raise SystemExit(f"model type {model_type!r} ranks no items (rating models predict ratings)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder written by train_ncf")
    parser.add_argument("user", type=int, help="a raw user id, as in the run's ids.json")
    parser.add_argument("-k", type=int, default=10, help="list length (default 10)")
    args = parser.parse_args()

    with open(os.path.join(args.run, "config.json")) as f:
        model_type = json.load(f)["model"]["type"]
    with open(os.path.join(args.run, "ids.json")) as f:
        ids = json.load(f)
    raw_users, raw_items, titles = ids["users"], ids["items"], ids["titles"]
    if args.user not in raw_users:
        raise SystemExit(f"user {args.user} is not in the data set of {args.run}")
    user = raw_users.index(args.user)
    seen = load_file(os.path.join(args.run, "seen.safetensors"))
    offsets, seen_items = seen["offsets"], seen["items"]
    params = {}
    if model_type != "itempop":
        params = {name: t.astype(np.float64) for name, t in load_file(os.path.join(args.run, "model.safetensors")).items()}

    scores = scores_for_user(model_type, params, seen_items, len(raw_items), user)
    scores[seen_items[offsets[user]:offsets[user + 1]]] = -np.inf  # trained items are never recommended
    # Larger score first; equal scores by ascending item id (lexsort's last key is the primary one).
    order = np.lexsort((np.arange(len(scores)), -scores))
    unseen = len(scores) - (offsets[user + 1] - offsets[user])
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["user", "rank", "item", "score", "title"])
    for rank, item in enumerate(order[: min(args.k, unseen)], start=1):
        raw = raw_items[item]
        writer.writerow([args.user, rank, raw, f"{scores[item]:.7g}", titles.get(str(raw), "")])


if __name__ == "__main__":
    main()
