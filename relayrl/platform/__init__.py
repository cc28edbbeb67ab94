"""The distributed runtime: replay service, rollout workers, experiments, CLI. No algorithm code."""
