"""Progress of long runs: a tqdm bar on a terminal, a log line at a fixed wall interval in
batch logs (where a bar would print nothing useful)."""
from __future__ import annotations

import sys
import time as wallclock

#: Wall time between progress lines when stderr is not a terminal [s].
LOG_INTERVAL = 60.0


class Progress:
    """Context manager giving a ``progress(t, info)`` callback for :class:`kmc.simulation.Simulation`.

    Parameters
    ----------
    total : float
        Simulated time to run [s].
    quiet : bool
        Show nothing.
    stream : file, optional
        Where lines go (stderr).
    interval : float
        Seconds of wall time between lines when ``stream`` is not a terminal.
    """

    def __init__(self, total: float, quiet=False, stream=None, interval: float = LOG_INTERVAL):
        self.total, self.quiet, self.interval = total, quiet, interval
        self.stream = stream or sys.stderr
        self.bar = None
        self.start = self.last = wallclock.perf_counter()

    def __enter__(self):
        if not self.quiet and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, unit="s", desc="simulated time", leave=False,
                            file=self.stream, bar_format="{l_bar}{bar}| {n:.4g}/{total:.4g} s "
                                                         "[{elapsed}<{remaining}] {postfix}")
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False

    def __call__(self, t: float, info: str = "") -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.n = t
            self.bar.set_postfix_str(info, refresh=False)
            self.bar.refresh()
            return
        now = wallclock.perf_counter()
        if now - self.last >= self.interval:
            self.last = now
            share = f" ({t / self.total:.1%})" if self.total else ""
            print(f"kmc: t = {t:.6g} s of {self.total:.6g} s simulated{share}, {info}, "
                  f"{now - self.start:.0f} s wall", file=self.stream, flush=True)
