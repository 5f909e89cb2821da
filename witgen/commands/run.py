"""`witgen run PIPELINE`: run a DataFlare pipeline of plugin components.

Exit status: 0 a clean run; 1 records failed under an `on_error = "fail"` policy, a stage
failed, or the accounting does not balance; 2 bad input (a pipeline file error at file:line, a
missing component, a refused plugin). The pipeline file format is documented in
`witgen.pipeline.FORMAT`.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from witgen.diagnostics import UsageError, WitgenError

HELP = "run a pipeline of DataFlare plugins (TOML pipeline file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from witgen.pipeline import FORMAT

    parser.description = (__doc__ or "").strip() + "\n\n" + FORMAT
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("pipeline", metavar="PIPELINE", type=Path, help="the pipeline file")
    parser.add_argument(
        "--records", type=int, default=None, help="stop after N source records (default: all)"
    )
    parser.add_argument("--metrics-json", type=Path, default=None, metavar="FILE")
    parser.add_argument(
        "--prometheus", type=int, default=None, metavar="PORT", help="serve /metrics on PORT"
    )
    parser.add_argument(
        "--no-hot-reload", action="store_true", help="do not watch the components for changes"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="compiled-code cache (default: ~/.cache)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the accounting")
    parser.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: in this process (default); ray: on Ray Data (pip install 'witgen[ray]')",
    )
    parser.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="with --engine ray: join this Ray cluster (default: start a local one)",
    )


def run(args: argparse.Namespace) -> int:
    from witgen.pipeline import contract as contract_mod
    from witgen.pipeline import metrics, spec
    from witgen.pipeline.runtime import Pipeline

    if args.records is not None and args.records < 0:
        raise UsageError("--records must not be negative")
    if args.prometheus is not None and not 0 < args.prometheus < 65536:
        raise UsageError("--prometheus needs a port number (1-65535)")
    engine = getattr(args, "engine", "local")
    if getattr(args, "address", None) and engine != "ray":
        raise UsageError("--address needs --engine ray")
    if engine == "ray":
        from witgen.pipeline.ray_engine import require_ray

        require_ray()  # before any work: says how to install it (exit 2)
    pipeline_spec = spec.load(args.pipeline)
    try:
        contract = contract_mod.load(pipeline_spec.contract)
    except WitgenError as err:  # an invalid contract is bad input too: exit 2, not 1
        print(err.render(), file=sys.stderr)
        return 2
    cache = args.cache_dir or contract_mod.cache_root() / "compiled"
    events: list[Any] = []
    if engine == "ray":
        from witgen.pipeline.ray_engine import RayOptions, RayPipeline

        pipeline: Pipeline = RayPipeline(
            pipeline_spec,
            contract,
            listeners=[events.append],
            cache_dir=cache,
            options=RayOptions(address=args.address),
        )
    else:
        pipeline = Pipeline(
            pipeline_spec,
            contract,
            listeners=[events.append],
            cache_dir=cache,
            hot_reload=False if args.no_hot_reload else None,
        )
    stop_prometheus = None
    if args.prometheus is not None:
        try:
            stop_prometheus = metrics.serve_prometheus(pipeline, args.prometheus)
        except ImportError:
            raise UsageError(
                "--prometheus needs prometheus_client: pip install 'witgen[run]'"
            ) from None
        except OSError as exc:
            raise UsageError(f"--prometheus: cannot listen on port {args.prometheus}: {exc}")
    live = sys.stdout.isatty() and not args.quiet
    previous = signal.getsignal(signal.SIGINT)
    try:
        pipeline.load()

        # Ctrl-C: a graceful stop (in-flight batches finish); a second one interrupts.
        def on_sigint(_sig: int, _frame: Any) -> None:
            signal.signal(signal.SIGINT, previous)
            pipeline.stop()

        if threading_main():
            signal.signal(signal.SIGINT, on_sigint)
        if live:
            with metrics.LiveDisplay(pipeline):
                pipeline.run(args.records)
        else:
            pipeline.run(args.records)
    finally:
        if threading_main():
            signal.signal(signal.SIGINT, previous)
        if stop_prometheus is not None:
            stop_prometheus()
    if args.metrics_json is not None:
        metrics.write_json(pipeline, args.metrics_json)
    out = sys.stdout
    if not args.quiet:
        if not live:
            out.write(metrics.table(pipeline) + "\n")
        for event in pipeline.events:
            if event.kind in ("reload", "reload-refused"):
                out.write(f"{event}\n")
        faults = [e for e in pipeline.events if e.kind == "fault"]
        if faults:
            out.write(f"faults: {len(faults)} (first: {faults[0]})\n")
    out.write(pipeline.accounting.line() + "\n")
    out.write(
        f"{pipeline.accounting.records_in} records in {pipeline.seconds:.2f} s "
        f"({pipeline.records_per_second:,.0f} records/s); pipeline {pipeline.lifecycle.label}\n"
    )
    if pipeline.failure is not None:
        print(f"error: {pipeline.failure}", file=sys.stderr)
        return 1
    if not pipeline.accounting.balanced:
        print("error: the accounting does not balance", file=sys.stderr)
        return 1
    return 0


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
