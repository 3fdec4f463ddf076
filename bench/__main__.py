"""`make bench`: run every benchmark, print ratios, write bench/results.json.

    python -m bench [--quick] [--only NAME ...]

--quick uses small data for a smoke run (CI); its figures are not meaningful and nothing
is asserted on them.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

from bench.common import Result, write_results


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--quick", action="store_true", help="small data, smoke run only")
    parser.add_argument("--only", nargs="*", help="benchmark names to run")
    args = parser.parse_args()
    from bench import suite

    benches: dict[str, Callable[[bool], list[Result]]] = suite.BENCHMARKS
    chosen = args.only or list(benches)
    results: list[Result] = []
    failures = 0
    started = time.perf_counter()
    for name in chosen:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            got = benches[name](args.quick)
        except Exception:  # a broken benchmark must not hide the others' figures
            failures += 1
            traceback.print_exc()
            continue
        for r in got:
            print("   " + r.row(), flush=True)
        print(f"   ({time.perf_counter() - t0:.1f}s)", flush=True)
        results.extend(got)
    if not args.quick:
        write_results(results)
    print(f"\n{len(results)} figures in {time.perf_counter() - started:.0f}s"
          + ("" if args.quick else "; written to bench/results.json"))
    for r in results:
        print(r.row())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
