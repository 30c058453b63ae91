"""tamrig: control, acquisition and live analysis for transient absorption microscopy."""

__version__ = "0.1.0"
