"""The `cartwheel` command: one sub-command per step, and `run` for all of them."""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cartwheel import __version__
from cartwheel.config import ConfigError, Settings, load_settings
from cartwheel.orchestration.lock import LockBusy
from cartwheel.orchestration.logs import console_logging
from cartwheel.terminal import markup_safe, plain

app = typer.Typer(
    help="cartwheel: e-commerce analytics from raw shop data to warehouse and dashboard.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)  # one-line errors, never wrapped

if TYPE_CHECKING:  # the pipeline and the generator (duckdb, pyarrow, numpy) are imported
    # only by the commands that run them: `--help` and light commands load none of them
    from cartwheel.generate import GenerationResult
    from cartwheel.orchestration import StepResult

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder for everything a run writes (default: ./data)."),
]
Scale = Annotated[
    float | None, typer.Option("--scale", help="Scale factor (1 = classic size, at most 100,000).")
]
Seed = Annotated[int | None, typer.Option("--seed", help="Generator seed.")]


def _print_version(value: bool) -> None:
    if value:
        console.print(f"cartwheel {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print cartwheel's version and exit.",
        ),
    ] = None,
) -> None:
    """cartwheel: e-commerce analytics from raw shop data to warehouse and dashboard."""


EXIT_USAGE = 2  # a bad option or configuration value (like click's own usage errors)


def fail(message: object, code: int) -> typer.Exit:
    """Print `error: message` as one line (markup and control characters escaped)."""
    err_console.print(f"[red]error:[/red] {markup_safe(message)}", highlight=False)
    return typer.Exit(code)


def _settings(writes: bool = False, **overrides: object) -> Settings:
    """The settings, or one line and exit 2; `writes`: the data folder is created too."""
    try:
        settings = load_settings(**overrides)
    except ConfigError as error:
        raise fail(f"invalid configuration: {error}", EXIT_USAGE) from None
    if writes:
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            message = f"data dir {settings.data_dir} cannot be created: {error.strerror}"
            raise fail(f"invalid configuration: {message}", EXIT_USAGE) from None
    return settings


def _require_engine_driver(settings: Settings) -> None:
    """An engine whose optional package is missing: one line that says how to install it."""
    from cartwheel.engines import missing_driver

    hint = missing_driver(settings.engine)
    if hint is not None:
        from rich.markup import escape

        err_console.print(f"[red]error:[/red] {escape(hint)}")
        raise typer.Exit(2)


def summary_table(results: list[StepResult]) -> Table:
    table = Table(title="cartwheel run")
    table.add_column("step")
    table.add_column("status")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    for r in results:
        colour = "green" if r.status == "success" else "red"
        table.add_row(r.name, plain(r.status, colour), f"{r.records:,}", f"{r.seconds:.3f}")
    table.add_row("total", "", "", f"{sum(r.seconds for r in results):.3f}")
    return table


EXIT_LOCKED = 3  # another run holds the lock (see docs/operations.md)


def _run_selected_steps(settings: Settings, steps: list[str]) -> None:
    """Run some steps under the lock, published like a whole run."""
    from cartwheel.orchestration import Pipeline, PipelineError

    pipeline = Pipeline(settings)
    console_logging(logging.WARNING)
    try:
        pipeline.run(steps=steps)
    except LockBusy as error:
        raise fail(error, EXIT_LOCKED) from None
    except PipelineError as error:
        raise fail(error, 1) from None
    finally:
        pipeline.close()
    console.print(summary_table(pipeline.results))


@app.command()
def generate(
    scale: Scale = None,
    seed: Seed = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Output folder (default: DATA_DIR/raw, or DATA_DIR/batches for days)."
        ),
    ] = None,
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    start: Annotated[
        str | None,
        typer.Option("--start", help="Daily batches from this day (YYYY-MM-DD) on."),
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="Number of daily batches (default: to the end).")
    ] = None,
    day: Annotated[
        str | None, typer.Option("--day", help="Just this day's batch (YYYY-MM-DD).")
    ] = None,
    defect_rate: Annotated[
        float | None,
        typer.Option("--defect-rate", help="Share of rows with an injected defect (default: 0)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Generate synthetic shop data: one folder (default) or one batch folder per day."""
    settings = _settings(scale=scale, seed=seed, data_dir=data_dir, defect_rate=defect_rate)
    try:
        result = _generate(settings, out, file_format, start, days, day)
    except ValueError as error:
        raise fail(error, EXIT_USAGE) from None
    except OSError as error:
        raise fail(f"cannot write {error.filename or out}: {error.strerror}", 1) from None
    table = Table(title=plain(f"generated into {result.out_dir}"))
    table.add_column("entity")
    table.add_column("rows", justify="right")
    for entity, count in result.record_counts.items():
        table.add_row(entity, f"{count:,}")
    if settings.defect_rate:
        table.add_row("defects (ledger)", f"{result.defects:,}")
    console.print(table)
    batches = f" in {len(result.batches)} daily batches" if result.batches else ""
    console.print(f"{sum(result.record_counts.values()):,} rows{batches} in {result.seconds:.2f} s")


def _generate(
    settings: Settings,
    out: Path | None,
    file_format: str,
    start: str | None,
    days: int | None,
    day: str | None,
) -> GenerationResult:
    """One-shot folder, or daily batches when --start/--days/--day is given."""
    from cartwheel.generate import Profile, generate_batches
    from cartwheel.generate import generate as generate_files

    def parse(text: str, option: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{option} {text!r} is not a date like 2024-11-29") from None

    profile = Profile.from_mapping(settings.generator)
    options = {
        "scale": settings.scale,
        "seed": settings.seed,
        "file_format": file_format,
        "defect_rate": settings.defect_rate,
        "profile": profile,
    }
    if day is not None:
        if start is not None or days is not None:
            raise ValueError("--day cannot be combined with --start or --days")
        first, days = parse(day, "--day"), 1
    elif start is not None or days is not None:
        first = parse(start, "--start") if start else profile.start
    else:
        return generate_files(out or settings.raw_dir, **options)
    return generate_batches(out or settings.data_dir / "batches", first, days, **options)


def _preset_help() -> str:
    from cartwheel.importing.mapping import preset_titles

    return "Built-in mapping: " + "; ".join(
        f"{name} ({title})" for name, title in preset_titles().items()
    )


@app.command("import")
def import_(
    export_file: Annotated[Path, typer.Argument(help="The shop's order-line export (CSV).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the four raw files.")
    ] = None,
    preset: Annotated[str | None, typer.Option("--preset", help=_preset_help())] = None,
    mapping_file: Annotated[
        Path | None, typer.Option("--mapping", help="Column mapping YAML (docs/import.md).")
    ] = None,
    inspect: Annotated[
        bool,
        typer.Option(
            "--inspect", help="Show the header, a proposed mapping and what it lacks; no import."
        ),
    ] = False,
    write_mapping: Annotated[
        Path | None,
        typer.Option("--write-mapping", help="With --inspect: save the proposal to this YAML."),
    ] = None,
) -> None:
    """Turn a shop's order-line export into the four raw files (then: run --input OUT)."""
    from cartwheel.importing import (
        ImportInputError,
        MappingError,
        import_export,
        load_mapping,
        load_preset,
    )

    if inspect or write_mapping:
        _inspect_export(export_file, write_mapping)
        return
    if (preset is None) == (mapping_file is None):
        raise fail("give exactly one of --preset or --mapping (or --inspect)", EXIT_USAGE)
    if out is None:
        raise fail("--out is required to import", EXIT_USAGE)
    try:
        mapping = load_preset(preset) if preset else load_mapping(mapping_file)  # type: ignore[arg-type]
        result = import_export(export_file, mapping, out)
    except (MappingError, ImportInputError) as error:
        raise fail(error, EXIT_USAGE) from None
    table = Table(title=plain(f"imported into {result.out_dir}"))
    table.add_column("entity")
    table.add_column("rows", justify="right")
    for entity, count in result.record_counts.items():
        table.add_row(entity, f"{count:,}")
    console.print(table)
    console.print(
        plain(
            f"{result.rows_read:,} export rows; line sales after discount {result.written_total}"
            f" (export: {result.export_net_total}); conflicts: {sum(result.conflicts.values())}"
            f" (conflicts.csv); ids: {out / 'ids.csv'}"
        )
    )
    if result.ignored_columns:
        console.print(plain("ignored columns: " + ", ".join(result.ignored_columns)))
    if result.unknown_fields:
        console.print(plain("unknown (not in the export): " + ", ".join(result.unknown_fields)))
    for warning in result.warnings():
        err_console.print(f"[yellow]warning:[/yellow] {markup_safe(warning)}", highlight=False)


def _inspect_export(export_file: Path, write_mapping: Path | None) -> None:
    """Print the export's header, a proposed mapping and the fields it still lacks."""
    import duckdb

    from cartwheel.importing.inspection import propose

    if not export_file.is_file():
        raise fail(f"{export_file}: export file not found (or not a file)", EXIT_USAGE)
    try:
        proposal = propose(export_file)
    except duckdb.Error as error:
        raise fail(f"{export_file}: cannot read as CSV ({error})", EXIT_USAGE) from None
    console.print(plain("header: " + ", ".join(proposal.header)))
    for name in proposal.presets:
        console.print(
            plain(
                f"the header has every column of the built-in preset {name}: "
                f"cartwheel import {export_file} --preset {name}"
            )
        )
    console.print("proposed mapping:")
    for line in proposal.as_yaml().splitlines():
        console.print(plain(line), highlight=False)
    if proposal.missing:
        console.print(plain("missing (map these by hand): " + ", ".join(proposal.missing)))
    if write_mapping is not None:
        write_mapping.write_text(proposal.as_yaml(), encoding="utf-8")
        console.print(plain(f"mapping written to {write_mapping}"))


@app.command()
def ingest(
    input_dir: Annotated[
        Path | None, typer.Option("--input", help="Folder with the raw files.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Load raw files into the staging schema (replacing the batch if loaded before)."""
    _run_selected_steps(_settings(True, input_dir=input_dir, data_dir=data_dir), ["ingest"])


@app.command()
def quality(data_dir: DataDir = None) -> None:
    """Type, cleanse and check every staged row."""
    _run_selected_steps(_settings(True, data_dir=data_dir), ["quality"])


@app.command()
def production(data_dir: DataDir = None) -> None:
    """Merge validated rows into the constrained 3NF production schema."""
    _run_selected_steps(_settings(True, data_dir=data_dir), ["production"])


@app.command()
def warehouse(data_dir: DataDir = None) -> None:
    """Build the star schema: dimensions, fact_sales and aggregates."""
    _run_selected_steps(_settings(True, data_dir=data_dir), ["warehouse"])


@app.command()
def analytics(data_dir: DataDir = None) -> None:
    """Write the ten analytics CSVs and analytics_summary.json."""
    _run_selected_steps(_settings(True, data_dir=data_dir), ["analytics"])


@app.command()
def dashboard(
    data_dir: DataDir = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open dashboard.html in the web browser afterwards.")
    ] = False,
) -> None:
    """Rebuild dashboard.html and dashboard_metadata.json from the warehouse."""
    settings = _settings(True, data_dir=data_dir)
    _run_selected_steps(settings, ["dashboard"])
    path = (settings.data_dir / "dashboard.html").resolve()
    console.print(plain(f"dashboard: {path}"))
    if not open_browser:
        return
    import webbrowser  # only here: importing it costs every other command its time

    if not webbrowser.open(path.as_uri()):
        err_console.print(plain(f"could not open a browser here; open {path.as_uri()} yourself"))


@app.command()
def run(
    input_dir: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="Build from this folder instead of generating: the four raw files, or daily "
            "batch folders YYYY-MM-DD/ holding them.",
        ),
    ] = None,
    scale: Scale = None,
    seed: Seed = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop what was built and start from scratch.")
    ] = False,
    data_dir: DataDir = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another run holds the lock, wait for it.")
    ] = False,
    engine: Annotated[
        str | None, typer.Option("--engine", help="duckdb (default), postgres or spark.")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="With --engine postgres: postgresql://user@host:port/db "
            "(password in the URL or PGPASSWORD; never printed).",
        ),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master", help="With --engine spark: local[*] (default), spark://…, yarn."
        ),
    ] = None,
    spark_remote: Annotated[
        str | None,
        typer.Option(
            "--spark-remote", help="With --engine spark: a Spark Connect URL, sc://host:15002."
        ),
    ] = None,
) -> None:
    """Run every step: generate (or --input), ingest, quality, production ... dashboard.

    The steps in order: generate (or read --input), ingest, quality, production, warehouse,
    analytics, dashboard.

    Daily batch folders (YYYY-MM-DD/) under --input are loaded oldest first, each once."""
    settings = _settings(
        True,
        input_dir=input_dir,
        scale=scale,
        seed=seed,
        data_dir=data_dir,
        engine=engine,
        database_url=database_url,
        spark={
            key: value
            for key, value in (("master", spark_master), ("remote", spark_remote))
            if value is not None
        }
        or None,
    )
    _require_engine_driver(settings)
    from cartwheel.orchestration.steps import load_step_work

    load_step_work(settings)
    from cartwheel.orchestration import Pipeline, PipelineError

    pipeline = Pipeline(settings)
    console_logging(logging.WARNING)
    try:
        pipeline.run(rebuild=rebuild, wait=wait)
    except LockBusy as error:
        raise fail(error, EXIT_LOCKED) from None
    except PipelineError as error:
        console.print(summary_table(pipeline.results))
        raise fail(error, 1) from None
    console.print(summary_table(pipeline.results))
    console.print(
        plain(f"warehouse: {settings.warehouse_location}   analytics: {settings.analytics_dir}")
    )


@app.command()
def quarantine(
    data_dir: DataDir = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="Only this entity (e.g. transactions).")
    ] = None,
    samples: Annotated[
        int, typer.Option("--samples", min=0, help="Sample rows per entity and reason.")
    ] = 3,
) -> None:
    """What is held in quarantine: counts by entity and reason, and sample rows."""
    from cartwheel.engines import connect_reader
    from cartwheel.quality.quarantine import render_quarantine

    settings = _settings(data_dir=data_dir)
    try:
        engine = connect_reader(settings)
    except OSError as error:
        raise fail(error, 1) from None
    try:
        for part in render_quarantine(engine, entity, samples):
            Console(width=max(console.width, 140)).print(part)
    finally:
        engine.close()


@app.command()
def status(
    data_dir: DataDir = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs to show.")] = 10,
) -> None:
    """The last runs from the run history (ops.pipeline_runs), newest first."""
    from cartwheel.orchestration.status import render_status

    settings = _settings(data_dir=data_dir)
    try:
        # Wide enough for one line per run even when piped (rich assumes 80 columns).
        Console(width=max(console.width, 140)).print(render_status(settings, limit))
    except OSError as error:
        raise fail(error, 1) from None


@app.command()
def monitor(
    data_dir: DataDir = None,
    prometheus: Annotated[
        Path | None,
        typer.Option("--prometheus", help="Also write Prometheus text format to this file."),
    ] = None,
) -> None:
    """Check run recency, freshness, volume, quality and the database; write
    monitoring_report.json; exit 0 healthy, 1 degraded, 2 critical."""
    from cartwheel.alerts import notify_health_change
    from cartwheel.orchestration.monitor import EXIT_CODES, render_report, write_reports
    from cartwheel.orchestration.monitor import monitor as run_monitor

    settings = _settings(True, data_dir=data_dir)
    report = run_monitor(settings)
    try:
        path = write_reports(settings, report, prometheus)
    except OSError as error:
        raise fail(f"cannot write {error.filename}: {error.strerror}", 1) from None
    console.print(render_report(report))
    console.print(plain(f"report: {path}"))
    for outcome in notify_health_change(settings, report):
        console.print(plain(f"alert {outcome}"))
    raise typer.Exit(EXIT_CODES[report["pipeline_health"]])


@app.command()
def schedule(
    data_dir: DataDir = None,
    cron: Annotated[
        str | None, typer.Option("--cron", help="Cron expression [default: 0 2 * * *].")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA time zone [default: UTC].")
    ] = None,
    run_now: Annotated[
        bool, typer.Option("--run-now", help="Run once at start, then follow the schedule.")
    ] = False,
    cycles: Annotated[
        int | None, typer.Option("--cycles", help="Stop after this many runs [default: never].")
    ] = None,
) -> None:
    """Run the pipeline on a schedule (daily at 02:00 by default), skipping while another
    run holds the lock, and delete expired files after each run."""
    from cartwheel.orchestration.schedule import serve, stop_on_sigterm

    settings = _settings(True, data_dir=data_dir, schedule_cron=cron, schedule_timezone=timezone)
    console_logging(logging.INFO)
    stop_on_sigterm()
    try:
        outcomes = serve(settings, run_now=run_now, max_cycles=cycles)
    except KeyboardInterrupt:
        err_console.print("scheduler stopped")
        raise typer.Exit(130) from None
    if outcomes and outcomes[-1] == "failed":
        raise typer.Exit(1)


def main() -> None:
    """The `cartwheel` entry point: the app, with a last guard so that no failure ends in a
    traceback: one line naming the error and the run log (usage errors exit 2, these 1).
    A usage error of the command line (an unknown option, a value out of range) is one
    line too, naming the command's --help."""
    try:
        code = app(prog_name="cartwheel", standalone_mode=False)
    except typer.TyperException as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # the help is printed already
            sys.exit(error.exit_code)
        context = getattr(error, "ctx", None)
        where = f" (see {context.command_path} --help)" if context is not None else ""
        fail(f"{error.format_message()}{where}", error.exit_code)
        sys.exit(error.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 - the guard of last resort
        message = " ".join(str(error).split()) or "no message"
        fail(f"internal error: {type(error).__name__}: {message}", 1)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
