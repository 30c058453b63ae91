"""Query round trip of the real drivers against the protocol emulators, per transport.

Usage: python benchmarks/emulator_roundtrip.py [--n 500]
"""

from __future__ import annotations

import argparse
import time

from drivers.newport_smc100 import SMC100Settings, SMC100Stage
from drivers.thorlabs_sc10 import SC10Settings, SC10Shutter
from simulators.emulators.sc10 import SC10Emulator
from simulators.emulators.server import EmulatorServer
from simulators.emulators.smc100 import SMC100Emulator


def per_query_ms(query: object, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        query()  # type: ignore[operator]
    return (time.perf_counter() - t0) / n * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    with (
        EmulatorServer(SMC100Emulator) as smc_srv,
        EmulatorServer(SC10Emulator) as sc10_srv,
    ):
        for label, smc_url, sc10_url in (
            ("emu://", "emu://smc100", "emu://sc10"),
            ("socket://", smc_srv.url, sc10_srv.url),
        ):
            stage = SMC100Stage("stage", SMC100Settings(port=smc_url, poll_interval_s=0.001))
            shutter = SC10Shutter("shutter", SC10Settings(port=sc10_url))
            stage.connect()
            shutter.connect()
            tp = per_query_ms(stage.position_mm, args.n)
            closed = per_query_ms(shutter.is_open, args.n)
            t0 = time.perf_counter()
            for i in range(20):
                stage.move_to(10.0 + i)
            move = (time.perf_counter() - t0) / 20 * 1e3
            print(
                f"{label:10s} SMC100 TP {tp:.3f} ms/query, SC10 closed? {closed:.3f} ms/query, "
                f"SMC100 1 mm move incl. TS polling {move:.1f} ms"
            )
            stage.disconnect()
            shutter.disconnect()


if __name__ == "__main__":
    main()
