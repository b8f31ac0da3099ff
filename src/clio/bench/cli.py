"""``clio-bench``: the command line.

    clio-bench --quick                       # all databases, under a minute
    clio-bench --db sqlite --db postgresql -n 500 --repeat 7 --json out.json
    clio-bench --scaling                     # read latency at 10^3..10^6 versions
"""

from __future__ import annotations

import argparse
import json
import sys

from clio.bench.contenders import CONTENDERS
from clio.bench.databases import DATABASES


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="clio-bench",
        description="clio against plain SQLAlchemy, a hand-written same-table "
        "baseline and SQLAlchemy-Continuum, side by side in one process.",
    )
    p.add_argument("--db", action="append", choices=DATABASES, help="database (repeatable; default all)")
    p.add_argument(
        "--contender", action="append", choices=tuple(CONTENDERS), help="contender (repeatable; default all)"
    )
    p.add_argument("--quick", action="store_true", help="small sizes: all databases in under a minute")
    p.add_argument("-n", type=int, help="objects per repetition")
    p.add_argument("-k", type=int, help="edit/change/publish rounds")
    p.add_argument("--trees", type=int, help="parents (each with 10 children) per repetition")
    p.add_argument("--reads", type=int, help="reads per read cell")
    p.add_argument("--repeat", type=int, help="repetitions (medians are reported)")
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--scaling", action="store_true", help="run the read-scaling benchmark instead")
    p.add_argument(
        "--sizes", help="comma-separated stored-version counts for --scaling (default 10^3..10^6; quick: 10^3,10^4)"
    )
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-' for stdout)")
    p.add_argument("--markdown", metavar="FILE", help="write the Markdown table to FILE instead of stdout")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    databases = tuple(args.db or DATABASES)
    if args.scaling:
        from clio.bench import scaling

        if args.sizes:
            sizes = [int(float(s)) for s in args.sizes.split(",")]
        else:
            sizes = [10**3, 10**4] if args.quick else [10**3, 10**4, 10**5, 10**6]
        reads = args.reads or (30 if args.quick else 200)
        report = scaling.run(databases, sizes, reads=reads, repeat=args.repeat or (3 if args.quick else 5), seed=args.seed)
        text = scaling.markdown(report)
    else:
        from clio.bench.runner import Settings, markdown, run

        overrides = {
            key: value
            for key, value in dict(n=args.n, k=args.k, trees=args.trees, reads=args.reads, repeat=args.repeat).items()
            if value is not None
        }
        overrides["seed"] = args.seed
        if args.contender:
            overrides["contenders"] = tuple(c for c in CONTENDERS if c in args.contender)
        settings = Settings.quick(**overrides) if args.quick else Settings(**overrides)
        report = run(databases, settings)
        text = markdown(report)
    report["command"] = "clio-bench " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    if args.json:
        data = json.dumps(report, indent=2, default=str)
        if args.json == "-":
            print(data)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(data + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
