"""Command line: ``python -m samplegen generate|restore-mtimes``.

``generate [--out sample_faxes] [--seed 2025] [--workers N]`` renders the sample
corpus and its ``truth.json``; ``restore-mtimes [--root sample_faxes]`` puts back
the file mtimes git dropped (fast, standard library only).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samplegen", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="render the sample corpus and truth.json")
    g.add_argument("--out", type=Path, default=ROOT / "sample_faxes")
    g.add_argument("--seed", type=int, default=2025)
    g.add_argument("--workers", type=int, default=None, help="render processes (default: up to 4)")
    r = sub.add_parser("restore-mtimes", help="set file mtimes from truth.json")
    r.add_argument("--root", type=Path, default=ROOT / "sample_faxes")
    args = parser.parse_args(argv)
    if args.command == "generate":
        from samplegen.forms import FontMissingError
        from samplegen.generate import generate

        try:
            truth = generate(args.out, args.seed, args.workers)
        except FontMissingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        t = truth["totals"]["2025"]
        print(f"wrote {len(truth['receipts'])} receipts, {len(truth['messages'])} messages, "
              f"{len(truth['requests'])} requests to {args.out} (2025: {t['unique_requests']} unique requests)")
        return 0
    from samplegen.mtimes import restore_mtimes

    if not (args.root / "truth.json").is_file():
        print(f"error: {args.root / 'truth.json'} not found; run `python -m samplegen generate`", file=sys.stderr)
        return 2
    n = restore_mtimes(args.root)
    print(f"restored mtimes of {n} files under {args.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
