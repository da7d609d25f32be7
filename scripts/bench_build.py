"""Benchmark validate and build at scale: copies of the real records, renamed, in a temporary repository.

Prints seconds, records per second and peak memory for `check_dataset` (what `validate` runs) and for the
whole `build_dataset`. Asserts nothing: it measures (speed goals are never checked by timed tests).

    python scripts/bench_build.py                 # 1,000 and 10,000 records
    python scripts/bench_build.py --records 100000
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from belarus_releases.check.dataset import check_dataset  # noqa: E402
from belarus_releases.export.build import build_dataset  # noqa: E402
from belarus_releases.layout import Layout  # noqa: E402

PARTS = ("registry", "sources", "schema", "metadata.yml", "assertions.yml")


def make_repository(target: Path, count: int) -> Layout:
    """A repository with `count` records: the real ones, copied under new ids that keep their date prefix."""
    for part in PARTS:
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target / part)
    records = target / "records"
    records.mkdir()
    originals = sorted((ROOT / "records").glob("*.yml"))
    for number in range(count):
        original = originals[number % len(originals)]
        new_id = f"{original.stem}-copy-{number:06d}"
        text = original.read_text(encoding="utf-8").replace(f"id: {original.stem}\n", f"id: {new_id}\n", 1)
        (records / f"{new_id}.yml").write_text(text, encoding="utf-8")
    return Layout(target)


def timed(label: str, count: int, action: Callable[[], object]) -> None:
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    ok = getattr(result, "ok", None)
    print(f"{label:<10} {count:>7} records  {seconds:8.2f} s  {count / seconds:8.0f} records/s  ok={ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, action="append", help="how many records (repeatable)")
    counts = parser.parse_args().records or [1_000, 10_000]
    for count in counts:
        with tempfile.TemporaryDirectory() as folder:
            layout = make_repository(Path(folder), count)
            timed("validate", count, partial(check_dataset, layout))
            timed("build", count, partial(build_dataset, layout))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
