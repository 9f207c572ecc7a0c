"""Write ``traffic.csv``: a synthetic hourly network-traffic series to try the CSV data set on.

    python scripts/make_traffic_csv.py [--rows 2000] [--out traffic.csv]
    python -m lstm_experiments data=csv data.path=traffic.csv data.target=bytes

Columns: ``time`` (ISO hour, not a feature), ``bytes`` (daily and weekly cycles
plus noise), ``packets`` (follows bytes) and ``errors`` (rare bursts).
"""

import argparse
from pathlib import Path

import numpy as np

HOURS_PER_DAY = 24
HOURS_PER_WEEK = 7 * HOURS_PER_DAY


def traffic_table(rows: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    hour = np.arange(rows)
    daily = np.sin(2 * np.pi * hour / HOURS_PER_DAY)
    weekly = np.sin(2 * np.pi * hour / HOURS_PER_WEEK)
    bytes_ = 5e6 + 2e6 * daily + 1e6 * weekly + 3e5 * rng.standard_normal(rows)
    packets = bytes_ / 800 + 200 * rng.standard_normal(rows)
    errors = rng.poisson(0.2, rows) + 20 * (rng.random(rows) < 0.01)
    times = np.datetime64("2026-01-01T00") + hour.astype("timedelta64[h]")
    lines = ["time,bytes,packets,errors"]
    lines += [f"{t},{b:.0f},{p:.1f},{e}" for t, b, p, e in zip(times, bytes_, packets, errors)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("outputs") / "traffic.csv",
                        help="where to write it (default outputs/traffic.csv, which git ignores)")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(traffic_table(args.rows, args.seed))
    print(f"wrote {args.rows} rows to {args.out}")


if __name__ == "__main__":
    main()
