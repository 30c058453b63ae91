"""Scan files: NeXus/HDF5 written point by point under SWMR, read while growing.

``ScanWriter`` (engine side), ``open_scan`` / ``ScanFile`` (analysis and GUI side),
``recover`` (let other HDF5 programs open a file whose writer was killed).
The layout is described in :mod:`tamrig.storage.layout`.
"""

from tamrig.storage.h5files import recover
from tamrig.storage.metadata import ScanMetadata
from tamrig.storage.reader import ScanFile, open_scan
from tamrig.storage.writer import ScanWriter

__all__ = ["ScanFile", "ScanMetadata", "ScanWriter", "open_scan", "recover"]
