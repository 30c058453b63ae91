"""Short device-kind names of the real drivers, as used in rig files."""

KINDS: dict[str, str] = {}
