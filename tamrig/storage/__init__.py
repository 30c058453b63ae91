"""Scan files: NeXus/HDF5 written point by point under SWMR, read while growing.

``ScanWriter`` (engine side), ``open_scan`` / ``ScanFile`` (analysis and GUI side).
The layout is described in :mod:`tamrig.storage.layout`.
"""

from tamrig.storage.metadata import ScanMetadata
from tamrig.storage.reader import ScanFile, open_scan
from tamrig.storage.writer import ScanWriter

__all__ = ["ScanFile", "ScanMetadata", "ScanWriter", "open_scan"]
