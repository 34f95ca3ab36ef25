"""What one window costs per layout, through a counting S3 proxy in front of moto: an SDS
tree (one channel per file: ranged reads) against an EarthScope station-day object (two
channels interleaved: read whole without a record index; with one, the records it names).
Trees built from ObsPy's CH.BALST..LH_two_channels test file (tests/support/trees.py)::

    .venv/bin/python -m benchmarks.layouts
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from seiswindow import Archive, Extractor, Window
from seiswindow.archive import layout_named
from seiswindow.indexbuild import build_index
from seiswindow.store import S3Store
from seiswindow.tsindex import IndexStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.s3server import S3Proxy, start_moto  # noqa: E402
from support.trees import earthscope_tree, sds_tree, upload_tree  # noqa: E402


def main() -> None:
    moto = start_moto()
    try:
        for name, build in (("sds", sds_tree), ("earthscope", earthscope_tree)):
            build(root := Path(tempfile.mkdtemp()))
            upload_tree(moto.endpoint, f"{name}-bench", root)
        with S3Proxy(moto.endpoint) as proxy:
            print("| layout | window | status | samples | requests | bytes |")
            print("|---|---|---|---|---|---|")
            for name, indexed in (("sds", False), ("earthscope", False), ("earthscope", True)):
                window = Window.create("CH", "BALST", "", "LHZ", "2025-11-10T10:00:00", "2025-11-10T10:20:00")
                store = S3Store(f"{name}-bench", endpoint_url=proxy.url)
                index = None
                if indexed:
                    index = IndexStore(Path(tempfile.mkdtemp()) / "index.sqlite")
                    build_index(store, ["miniseed/CH/2025/314/BALST.CH.2025.314"], index)
                proxy.reset()
                with Extractor(Archive(store, layout_named(name)), index=index) as extractor:
                    (result,) = extractor.extract([window])
                label = f"{name} (record index)" if indexed else name
                print(
                    f"| {label} | CH.BALST..LHZ 20 min | {result.status.value} | {result.npts} | "
                    f"{proxy.count()} | {result.stats.bytes} |"
                )
    finally:
        moto.stop()


if __name__ == "__main__":
    main()
