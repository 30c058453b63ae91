"""The napari reader's layer data, checked without napari (it is no test dependency)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulators.campaign import SAMPLES, SMALL, write_campaign
from tamrig.storage import open_scan
from tamrig.viewers import napari_reader


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("napari")
    (path,) = write_campaign(root, samples=SAMPLES[:1], n_abs=(0.18,), size=SMALL)
    return path


def test_layers_hold_the_dtt_stack_and_its_fitted_contours(scan: Path) -> None:
    reader = napari_reader.napari_get_reader(str(scan))
    assert reader is napari_reader.read_scan
    (stack, image_kw, image_kind), (shapes, shape_kw, shape_kind) = reader(str(scan))
    assert (image_kind, shape_kind) == ("image", "shapes")
    with open_scan(scan) as f:
        points = f.points()
        pixel = f.pixel_size_nm
        h, w = f.image_shape
        n_delays = len(f.metadata["extra"]["delays_fs"])
    assert stack.shape == (1, 1, n_delays, h, w)
    assert image_kw["scale"] == (1.0, 1.0, 1.0, pixel, pixel)
    assert image_kw["axis_labels"][:3] == ("probe", "fluence", "delay")
    assert image_kw["metadata"]["delay_fs"] == f.metadata["extra"]["delays_fs"]
    # the averaged image of a delay measured once is that point's ΔT/T
    once = [k for k in range(len(points["index"])) if not points["reference"][k]]
    k = once[5]
    with open_scan(scan) as f:
        np.testing.assert_allclose(
            stack[0, 0, points["delay_index"][k]], f.dtt(int(points["index"][k])), atol=1e-7
        )
    # a contour per delay with a spot, centred where the stored fit found it
    assert shape_kw["shape_type"] == "ellipse" and len(shapes) == len(
        shape_kw["properties"]["label"]
    )
    spot = points["delay_fs"][once] > 50
    assert len(shapes) >= spot.sum()
    by_delay = {int(s[0, 2]): s for s in shapes}
    d = int(points["delay_index"][k])
    box = by_delay[d]
    centre_y, centre_x = box[:, 3].mean(), box[:, 4].mean()
    assert abs(centre_x - (points["x0_nm"][k] - pixel / 2)) < 0.5 * pixel
    assert abs(centre_y - (points["y0_nm"][k] - pixel / 2)) < 0.5 * pixel
    radius = (box[:, 4].max() - box[:, 4].min()) / 2
    assert radius == pytest.approx(points["sigma_nm"][k], rel=0.05)
    assert "napari" not in sys.modules


def test_other_files_are_left_to_other_readers(tmp_path: Path) -> None:
    assert napari_reader.napari_get_reader(str(tmp_path / "image.tif")) is None
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    assert napari_reader.napari_get_reader(str(junk)) is None


def test_manifest_names_the_reader() -> None:
    manifest = Path(napari_reader.__file__).with_name("napari.yaml")
    data = yaml.safe_load(manifest.read_text())
    (command,) = data["contributions"]["commands"]
    module, name = command["python_name"].split(":")
    assert getattr(importlib.import_module(module), name) is napari_reader.napari_get_reader
    assert data["contributions"]["readers"][0]["command"] == command["id"]
