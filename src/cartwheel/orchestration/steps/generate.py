"""generate: synthetic shop data into the raw folder (a run without --input)."""

from __future__ import annotations

import shutil

from cartwheel.orchestration.steps.context import PipelineError, StepContext, StepOutput


def run(context: StepContext) -> StepOutput:
    # Imported here: a run over --input never needs the generator (load_step_work skips it).
    from cartwheel.generate import Profile, generate

    s = context.settings
    try:
        profile = Profile.from_mapping(s.generator)
    except ValueError as error:
        raise PipelineError(str(error)) from error
    result = generate(
        s.raw_dir,
        scale=s.scale,
        seed=s.seed,
        file_format=s.raw_format,
        defect_rate=s.defect_rate,
        profile=profile,
    )
    shutil.copyfile(
        s.raw_dir / "generation_metadata.json", context.output_dir / "generation_metadata.json"
    )
    return StepOutput(records=sum(result.record_counts.values()))
