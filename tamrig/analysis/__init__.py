"""Transport analysis of σ(t) / MSD(t) curves: plain arrays in, dataclasses out."""
