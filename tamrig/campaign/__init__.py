"""Campaign analysis: a folder of scan files in, one table and the cross-sample figures out.

One module per job: :mod:`.discovery` (find files, read what they hold, group into series),
:mod:`.hashing` (content hashes and the result cache that makes re-runs incremental),
:mod:`.adapter` (the one call into the per-scan analysis), :mod:`.task` (analyse one series,
runs on a Dask worker), :mod:`.execution` (Dask: local workers or an existing cluster),
:mod:`.table` (CSV / Parquet and the trends), :mod:`.figures`, :mod:`.runner` (all of it in
order) and :mod:`.reprocess` (re-form ΔT/T from recorded raw frames). The napari reader
lives in :mod:`tamrig.viewers`.
"""
