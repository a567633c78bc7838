"""Model-free maps scored exactly like attributions: how much of the Dice needs a model at all?

Two maps per evaluation case, written in the attribution file format, mapped with Eq. 2 and
scored by :func:`cinexai.evaluation.score.score` under the run's evaluation config:

* ``amplitude``: the window itself (|x| after the ``absolute`` post-processing);
* ``deviation``: the window minus the mean of the normal reference pool (what a normal-reference
  baseline subtracts).

A trained model's attributions that do not beat these maps are not shown to localise anything
beyond the input.  Run after the default run:

    python diagnostics/input_maps.py results/synthetic [--config config.yaml] [--postprocessing absolute]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from cinexai.attribution.mapping import long_table, map_file
from cinexai.attribution.run import split_ids
from cinexai.config import load_config
from cinexai.evaluation.score import score
from cinexai.io import read_signals, read_table, write_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="results/{run} of a finished default run")
    ap.add_argument("--config", type=Path, default=Path("config.yaml"))
    ap.add_argument("--postprocessing", default="absolute")
    args = ap.parse_args()
    cfg = load_config(args.config)["evaluation"]
    res = args.results
    records = res / "data/records.parquet"
    sig = read_signals(res / "data/windows.parquet")
    evaluation, reference = split_ids(read_table(records), records)
    cases = sig.select(evaluation)
    maps = {"amplitude": cases.X, "deviation": cases.X - sig.select(reference).X.mean(axis=0)}
    t = np.arange(cases.X.shape[2])
    print(f"{'map':<10} {'target':<8} {'Dice':>6} {'floor':>6} {'threshold':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, phi in maps.items():
            ecg12 = Path(tmp) / f"{name}.parquet"
            write_table(
                long_table(cases.ids, sig.channels, t, t * 1000.0 / sig.fs, phi.astype(np.float32)),
                ecg12,
                {"source": "ecg12", "arch": "resnet", "method": name, "registered_method": name},
            )
            mapped = Path(tmp) / f"{name}_mapped.parquet"
            map_file(ecg12_attr=ecg12, out=mapped)
            for target, path in (("ecg12", ecg12), ("mapped", mapped)):
                out = Path(tmp) / "scores.parquet"
                score(
                    attributions=path,
                    masks=res / "data/masks.parquet",
                    predictions=res / "models/ecg12/resnet/predictions.parquet",
                    out=out,
                    out_sweep=Path(tmp) / "sweep.parquet",
                    postprocessing=args.postprocessing,
                    cfg=cfg,
                )
                s = read_table(out)
                print(
                    f"{name:<10} {target:<8} {s['dice'].mean():6.3f} "
                    f"{s['floor_dice'].mean():6.3f} {s['threshold'].iloc[0]:9.2f}"
                )


if __name__ == "__main__":
    main()
