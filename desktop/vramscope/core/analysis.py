"""analyse(model, workload, deployment): everything a front end shows for one scenario, computed once:
the estimate, the limits, the decode speed and the engine's launch command."""

from typing import NamedTuple

from vramscope.core.engines import engine_profile
from vramscope.core.engines.base import Request
from vramscope.core.estimate import Estimate, estimate, resolve_kv_dtype
from vramscope.core.scenario import Deployment, ModelSpec, Workload
from vramscope.core.solve import max_batch, max_context
from vramscope.core.speed import decode_tokens_per_s
from vramscope.core.weights import weight_plan


class Analysis(NamedTuple):
    model: ModelSpec
    workload: Workload
    deployment: Deployment
    estimate: Estimate
    max_context: int | None
    max_batch: int | None
    decode_tokens_per_s: float | None
    launch_command: str
    limits_pending: bool = False  # analysed without the limits: they follow (the window, while dragging)

    @property
    def engine_label(self) -> str:
        return engine_profile(self.deployment.engine).label


def launch_command(model: ModelSpec, workload: Workload, deployment: Deployment) -> str:
    plan = weight_plan(model, workload)
    kv = resolve_kv_dtype(model, workload, deployment, plan.name)
    request = Request(
        model, workload, deployment, plan, kv, deployment.data_parallel, deployment.expert_parallel, deployment.nodes
    )
    return engine_profile(deployment.engine).launch_command(request)


def analyse(model: ModelSpec, workload: Workload, deployment: Deployment, limits: bool = True) -> Analysis:
    """Raises ValueError (EngineSettingsError among them) for a scenario the core or the engine refuses.
    `limits=False` leaves out the largest context and batch (a few estimates each) for `with_limits`."""
    est = estimate(model, workload, deployment)
    a = Analysis(
        model,
        workload,
        deployment,
        est,
        None,
        None,
        decode_tokens_per_s(model, est, deployment) if est.fits is not False else None,  # no speed for what cannot run
        launch_command(model, workload, deployment),
        limits_pending=True,
    )
    return with_limits(a) if limits else a


def with_limits(a: Analysis) -> Analysis:
    if not a.limits_pending:
        return a
    return a._replace(
        max_context=max_context(a.model, a.workload, a.deployment),
        max_batch=max_batch(a.model, a.workload, a.deployment),
        limits_pending=False,
    )
