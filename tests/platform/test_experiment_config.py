"""Config loading: strict YAML, typed sections, overrides, and one-line errors from the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from relayrl.agents.dqn.config import DQNConfig
from relayrl.platform.config import (
    ConfigError,
    apply_overrides,
    experiment_from_dict,
    load_experiment,
    load_yaml,
)

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "tune_configs" / "quickstart.yaml"


def _base() -> dict:
    return load_yaml(QUICKSTART)


def test_quickstart_loads_into_typed_sections():
    cfg = load_experiment(QUICKSTART)
    assert isinstance(cfg.learner, DQNConfig)
    assert cfg.learner.hidden_sizes == (128, 128)
    assert cfg.env.id == "CartPole-v1" and cfg.rollout.num_workers == 2
    assert cfg.learner.lr == pytest.approx(1e-3)


def test_override_sets_nested_value_with_yaml_typing():
    cfg = load_experiment(QUICKSTART, ["learner.lr=3e-4", "rollout.num_workers=3",
                                       "learner.double_q=false"])
    assert cfg.learner.lr == pytest.approx(3e-4)
    assert cfg.rollout.num_workers == 3
    assert cfg.learner.double_q is False


@pytest.mark.parametrize(
    "override, fragment",
    [
        (["learner.lrr=0.1"], "unknown key learner.'lrr'"),
        (["learner.lr=fast"], "learner.lr: got 'fast', expected a number"),
        (["rollout.num_workers=1.5"], "rollout.num_workers: got 1.5, expected an integer"),
        (["learner.optimizer=sgd"], "allowed: 'adam', 'rmsprop'"),
        (["learner.gamma=1.5"], "learner.gamma: got 1.5"),
        (["bogus=1"], "unknown key 'bogus'"),
        (["algorithm=ppo2"], "unknown algorithm 'ppo2'; allowed: "),
        (["env.id=CartPole-v9"], "unknown environment 'CartPole-v9'; did you mean CartPole-v1"),
        (["rollout.calls_in_flight=3"], "rollout.calls_in_flight: got 3, allowed 1 or 2"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(override, fragment):
    with pytest.raises(ConfigError) as e:
        experiment_from_dict(apply_overrides(_base(), override), source="q.yaml")
    msg = str(e.value)
    assert fragment in msg, msg
    assert msg.startswith("q.yaml: ") and "\n" not in msg


def test_duplicate_yaml_key_is_refused(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("name: a\nalgorithm: dqn\nname: b\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'name' at line 3 \(first at line 1\)"):
        load_yaml(p)


def test_cli_bad_config_exits_2_with_one_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(QUICKSTART.read_text().replace("batch_size: 64", "batch_sise: 64"))
    proc = subprocess.run(
        [sys.executable, "-m", "relayrl.platform.cli", "train", str(p)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "unknown key learner.'batch_sise'" in lines[0] and "batch_size" in lines[0]
    assert "Traceback" not in proc.stderr


def test_cli_impossible_resources_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "relayrl.platform.cli", "train", str(QUICKSTART),
         "--set", "rollout.num_workers=64", "--set", "rollout.num_cpus_per_worker=1"],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert "asks for 64 CPU" in last and "rollout.num_workers=64" in last, proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_eval_of_a_missing_checkpoint_exits_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "relayrl.platform.cli", "eval", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "not a relayrl checkpoint" in proc.stderr
