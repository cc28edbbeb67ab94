"""Ray Tune sweeps from YAML: search space, schedulers, trial checkpoints, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ray.tune.schedulers import ASHAScheduler, PopulationBasedTraining

from relayrl.platform.config import ConfigError, build
from relayrl.platform.sweep import SchedulerConfig, _domain, make_scheduler, trial_config

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "tune_configs" / "quickstart_sweep.yaml"


def test_search_space_specs_become_tune_domains():
    assert _domain("x", {"grid": [1, 3]}) == {"grid_search": [1, 3]}
    d = _domain("lr", {"loguniform": [1e-4, 1e-2]})
    assert 1e-4 <= d.sample() <= 1e-2
    with pytest.raises(ConfigError, match="tune.search_space.lr: got .* expected one of"):
        _domain("lr", {"logarithmic": [1, 2]})
    with pytest.raises(ConfigError, match=r"expected \[low, high\]"):
        _domain("lr", {"uniform": [1]})


def test_schedulers_from_yaml():
    asha = make_scheduler(build(SchedulerConfig, {"type": "asha", "max_t": 9}), "m", "max")
    assert isinstance(asha, ASHAScheduler)
    pbt = make_scheduler(build(SchedulerConfig, {
        "type": "pbt", "hyperparam_mutations": {"learner.lr": {"uniform": [1e-4, 1e-3]}}}),
        "m", "max")
    assert isinstance(pbt, PopulationBasedTraining)
    with pytest.raises(ConfigError, match="pbt needs at least one"):
        make_scheduler(build(SchedulerConfig, {"type": "pbt"}), "m", "max")


def test_trial_config_sets_dotted_paths_and_drops_tune():
    base = {"learner": {"lr": 1.0}, "tune": {"x": 1}}
    out = trial_config(base, {"learner.lr": 0.5, "_base": base})
    assert out == {"learner": {"lr": 0.5}}
    assert base["learner"]["lr"] == 1.0


def _results(exp_dir: Path) -> dict[str, list[dict]]:
    out = {}
    for f in exp_dir.glob("*/result.json"):
        lines = [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
        out[f.parent.name] = lines
    return out


SWEEP_ARGS = [
    "--set", "stop.iterations=2", "--set", "run.iteration_env_steps=300",
    "--set", "run.checkpoint_every=1", "--set", "learner.learning_starts=100",
    "--set", "learner.hidden_sizes=[32]", "--set", "env.num_envs=2",
    "--set", "tune.search_space={learner.lr: {grid: [0.001, 0.0005]}}",
]


@pytest.mark.timeout(600)
def test_interrupted_sweep_resumes_without_redoing_finished_trials(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    args = [sys.executable, "-m", "relayrl.platform.cli", "tune", str(SWEEP), *SWEEP_ARGS,
            "--set", f"run.logdir={tmp_path}"]
    exp_dir = tmp_path / "tune" / "quickstart_sweep"
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    finished: dict[str, list[dict]] = {}
    try:
        while time.time() < deadline and proc.poll() is None:
            res = _results(exp_dir) if exp_dir.exists() else {}
            finished = {k: v for k, v in res.items() if v and v[-1].get("done")}
            if finished and len(res) >= 2:
                break
            time.sleep(1.0)
        assert finished, "no trial finished before the interruption"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # crash the whole sweep, driver and actors
        proc.wait()
    done_before = {k: len(v) for k, v in finished.items()}

    out = subprocess.run(args + ["--resume"], env=env, capture_output=True, text=True,
                         timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    res = _results(exp_dir)
    assert len(res) == 2
    for trial, lines in res.items():
        assert lines[-1]["done"] and lines[-1]["iteration"] == 2, (trial, lines[-1])
        if trial in done_before:  # finished trials were not run again
            assert len(lines) == done_before[trial]
    # every trial checkpointed and wrote our TensorBoard names in its own directory
    for trial in res:
        assert list((exp_dir / trial).glob("checkpoint_*"))
        assert list((exp_dir / trial).glob("events.out.tfevents.*"))
