"""``python -m training.faxprint --out parsing/models/faxprint.traineddata``: see README.md."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from training.faxprint.train import Settings, train

BASE = Path(__file__).resolve().parents[2].parent / "shared/models/tessdata_best/fra.traineddata"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.faxprint", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("parsing/models/faxprint.traineddata"))
    parser.add_argument("--base", type=Path, default=BASE, help="float model to start from (tessdata_best fra)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "faxprint-work",
                        help="lines, .lstmf files, checkpoints and logs")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--lines", type=int, default=8000)
    parser.add_argument("--iterations", type=int, default=30000)
    args = parser.parse_args(argv)
    train(Settings(base=args.base, out=args.out, work=args.work, seed=args.seed, lines=args.lines,
                   iterations=args.iterations))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
