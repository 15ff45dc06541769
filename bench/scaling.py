"""Scale-out on one machine: 1, 2 and 4 real `rqworker` processes on one projection workload, a rate sweep for
each (the commands/s sustained before p95 lag passes 100 ms), and failover (a worker SIGKILLed mid-run).

Any worker takes any projector's job; the projector's advisory lock keeps one active per projector, so
workers spread projectors, never split one. The load comes from this process (bench.lag.measure), on the
same cores as PostgreSQL and the workers, as a real one-machine deployment has it.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import asdict, dataclass

from bench.lag import Lag, Workers, measure
from projections.jobs import catch_up_everything

LAG_LIMIT_MS = 100.0


@dataclass(frozen=True)
class Plan:
    workers: tuple[int, ...]
    rates: tuple[int, ...]  # commands/s asked, ascending
    seconds: float  # per paced run
    failover_seconds: float


FULL = Plan(workers=(1, 2, 4), rates=(100, 200, 300, 400, 600), seconds=6.0, failover_seconds=12.0)
SMOKE = Plan(workers=(1, 2), rates=(100,), seconds=1.0, failover_seconds=1.5)


@dataclass(frozen=True)
class Failover:
    rate: float
    killed_at: float  # seconds into the run
    lag: Lag  # lag.invisible: acknowledged commands never seen in every read model (must be 0)


def sustained(runs: list[Lag]) -> float:
    """The highest rate asked that was delivered (>= 90%) with p95 lag within the limit; 0 if none."""
    kept = [run.achieved for run in runs if run.p95 <= LAG_LIMIT_MS and run.achieved >= 0.9 * run.rate]
    return max(kept, default=0.0)


def sweep(plan: Plan) -> dict[int, list[Lag]]:
    """For each worker count, paced runs at each rate, stopping a count's sweep once the load is no longer
    delivered or its p95 is ten times the limit (the next rate only queues more)."""
    found: dict[int, list[Lag]] = {}
    catch_up_everything()  # what earlier measurements wrote is not this workload's backlog
    for count in plan.workers:
        found[count] = []
        with Workers(count):
            _warm_up(plan)
            for rate in plan.rates:
                run = measure(rate, plan.seconds)
                found[count].append(run)
                if run.achieved < 0.9 * rate or run.p95 > 10 * LAG_LIMIT_MS:
                    break
    return found


def failover(plan: Plan, rate: float = 100) -> Failover:
    """Two workers at `rate`; one is SIGKILLed a third of the way in. Every command must still become visible
    (the other worker, or the survivor's periodic catch-up, takes the dead one's work); the lag shows the cost."""
    with Workers(2) as workers:
        _warm_up(plan)
        killed_at = plan.failover_seconds / 3
        timer = threading.Timer(killed_at, lambda: workers.processes[0].send_signal(signal.SIGKILL))
        timer.start()
        try:
            lag = measure(rate, plan.failover_seconds)
        finally:
            timer.cancel()
    return Failover(rate, killed_at, lag)


def _warm_up(plan: Plan) -> None:
    """A short paced run first (connections, imports, caches), except at smoke sizes, where only the code
    path matters."""
    if plan.seconds >= 2:
        measure(plan.rates[0], 1.0)


def run(plan: Plan) -> dict[str, object]:
    """The JSON part of the results: every run of the sweep, the sustained rate per worker count, failover."""
    curves = sweep(plan)
    return {
        "lag_limit_ms": LAG_LIMIT_MS,
        "seconds_per_run": plan.seconds,
        "curves": {str(count): [asdict(run) for run in runs] for count, runs in curves.items()},
        "sustained": {str(count): sustained(runs) for count, runs in curves.items()},
        "failover": asdict(failover(plan)),
    }
