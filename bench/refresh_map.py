"""The in-memory part of a snapshot refresh at scale, apart from its SQL: 100 changed
persons applied to 2,000,000-entry card and person maps, the persistent way the snapshot
does it (``immutables.Map.mutate``) against the copy-then-update of a dict it replaced.

    .venv/bin/python -m bench.refresh_map [--entries 2000000] [--changes 100]

The SQL part (reading the changed persons) is measured by bench.snapshot_bench, with the
rest of refresh_snapshot, on a generated database.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time

from immutables import Map


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=2_000_000)
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args(argv)
    rng = random.Random(1)
    values = [object() for _ in range(1000)]  # shared facts, as the snapshot shares them
    plain = {f"C{i:09d}": values[i % 1000] for i in range(args.entries)}
    gc.disable()  # as zones.snapshot builds it (zones.bulk.no_gc)
    started = time.perf_counter()
    persistent = Map(plain)
    build_s = time.perf_counter() - started
    gc.enable()
    gc.freeze()  # the controller's snapshot is long-lived: keep it out of the young collections

    def with_map() -> None:
        nonlocal persistent
        with persistent.mutate() as m:
            for _ in range(args.changes):
                card = f"C{rng.randrange(args.entries):09d}"
                del m[card]
                m[card] = values[rng.randrange(1000)]
            persistent = m.finish()

    def with_dict() -> None:
        nonlocal plain
        copy = dict(plain)
        for _ in range(args.changes):
            card = f"C{rng.randrange(args.entries):09d}"
            copy[card] = values[rng.randrange(1000)]
        plain = copy

    print(f"{args.entries:,} entries, {args.changes} changes per refresh, {args.rounds} refreshes:")
    print(f"  Map({args.entries:,}) from a dict (controller start): {build_s * 1000:.0f} ms")
    for label, fn in (("immutables.Map mutate", with_map), ("dict copy + update", with_dict)):
        ms = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t) * 1000)
        ms.sort()
        print(f"  {label:22s} median {statistics.median(ms):8.3f} ms   max {ms[-1]:8.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
