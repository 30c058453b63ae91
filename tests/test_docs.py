"""The documents in docs/ stay true to the code: every object and attribute of a scan file
is described in docs/file-format.md, and README links every document."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import h5py
from storage_support import make_frames, make_metadata, make_record

from tamrig.engine.engine import POSITION_NAMES
from tamrig.storage import ScanWriter

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def test_file_format_describes_every_dataset_group_and_attribute(tmp_path: Path) -> None:
    md = dataclasses.replace(make_metadata(3), position_names=POSITION_NAMES)
    path = tmp_path / "scan.h5"
    with ScanWriter.create(path, md, record_raw_frames=True) as writer:
        for i in range(2):
            writer.write_frames(i, make_frames(i, 4))
            writer.write_point(make_record(i, md))
    text = (DOCS / "file-format.md").read_text(encoding="utf-8")
    missing: set[str] = set()
    with h5py.File(path, "r") as f:
        objects: list[tuple[str, h5py.HLObject]] = [("/", f)]
        f.visititems(lambda name, obj: objects.append((name, obj)))
        for name, obj in objects:
            leaf = name.rsplit("/", 1)[-1]
            if leaf and f"`{leaf}`" not in text and f"/{leaf}`" not in text:
                missing.add(f"object {name}")
            for key in obj.attrs:
                if not key.endswith("_indices") and f"`{key}`" not in text:
                    missing.add(f"attribute {key} of {name or '/'}")
        for field in f["/entry/events"].dtype.names or ():
            if f"`{field}`" not in text:
                missing.add(f"events field {field}")
        for field in f["/entry/points"].dtype.names or ():
            if (
                f"`{field}` †" not in text
                and f"`{field}`, " not in text
                and not (field.startswith("position_") and f"`{field}`" in text)
            ):
                missing.add(f"table field {field}")
    assert not missing, sorted(missing)


def test_readme_links_the_documents() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for doc in sorted(DOCS.glob("*.md")):
        assert f"docs/{doc.name}" in readme, doc.name
