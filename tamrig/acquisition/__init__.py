"""Differential imaging: frames in, ΔT/T out.

:mod:`~tamrig.acquisition.accumulator` is the cache-tuned kernel that sums pump-on / pump-off
frames into ΔT/T with per-pixel errors; :mod:`~tamrig.acquisition.sequencing` drives the rig
through one point (shutters, camera, dark frames) and feeds it.
"""
