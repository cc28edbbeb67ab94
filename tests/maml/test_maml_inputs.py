"""Bad input fails with one clear message; episodes, queue items and the meta-test are sound."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from relayrl.agents.maml.config import MAMLConfig
from relayrl.agents.maml.evaluate import (
    TEST_SEED_OFFSET,
    default_episodes_per_step,
    eval_meta_main,
    load_tasks_file,
    meta_test,
    navigation_oracle_returns,
)
from relayrl.agents.maml.networks import init_params, to_numpy
from relayrl.agents.maml.queue import episodes_to_items, items_to_episodes
from relayrl.agents.maml.sampler import TaskSampler
from relayrl.envs.meta import NAVIGATION_ID, sample_tasks
from relayrl.platform.config import ConfigError, experiment_from_dict, load_yaml

ROOT = Path(__file__).resolve().parents[2]
NAV = ROOT / "tune_configs" / "maml_navigation.yaml"


def nav_config(**changes) -> dict:
    data = load_yaml(NAV)
    for key, value in changes.items():
        section, name = key.split("__")
        data[section][name] = value
    return data


def test_the_shipped_configs_load():
    for path in sorted((ROOT / "tune_configs").glob("maml_*.yaml")):
        cfg = experiment_from_dict(load_yaml(path), str(path))
        assert cfg.algorithm == "maml_trpo", path


def test_unknown_task_family_is_refused_with_the_allowed_ones():
    data = nav_config(env__id="CartPole-v1")
    with pytest.raises(ConfigError, match=r"not a meta-RL task family.*relayrl/AntDir-v0.*"
                                          r"relayrl/Navigation2D-v0"):
        experiment_from_dict(data, "nav.yaml")
    data = nav_config(env__id="relayrl/Navigation3D-v0")
    with pytest.raises(ConfigError, match="unknown environment"):
        experiment_from_dict(data, "nav.yaml")


@pytest.mark.parametrize("steps", [0, -1])
def test_inner_steps_below_one_are_refused(steps):
    with pytest.raises(ConfigError, match=rf"learner\.num_inner_steps: got {steps}, must be >= 1"):
        experiment_from_dict(nav_config(learner__num_inner_steps=steps), "nav.yaml")


def test_a_meta_batch_too_big_for_the_workers_memory_is_refused():
    data = load_yaml(ROOT / "tune_configs" / "maml_ant_vel.yaml")
    data["learner"]["meta_batch_size"] = 2000
    data["rollout"]["num_workers"] = 2
    with pytest.raises(ConfigError, match=r"learner\.meta_batch_size: 2000 tasks .* 1000 tasks on "
                                          r"one worker.*learner\.worker_memory_mb=2048.*holds at most"):
        experiment_from_dict(data, "ant.yaml")
    data["rollout"]["num_workers"] = 64  # spread over enough workers it fits
    experiment_from_dict(data, "ant.yaml")


def test_other_bad_learner_values_name_the_key():
    for key, value, allowed in [("inner_lr", 0.0, "> 0"), ("max_kl", -1.0, "> 0"),
                                ("trajectories_per_task", 0, ">= 1"),
                                ("hvp_subsample", 1.5, r"\(0, 1\]")]:
        with pytest.raises(ConfigError, match=rf"learner\.{key}: got .*{allowed}"):
            experiment_from_dict(nav_config(**{f"learner__{key}": value}), "nav.yaml")
    with pytest.raises(ConfigError, match=r"learner\.hvp_method: got 'pearlmutter', expected one of "
                                          r"\['exact', 'finite_difference'\]"):
        experiment_from_dict(nav_config(learner__hvp_method="pearlmutter"), "nav.yaml")
    with pytest.raises(ConfigError, match=r"learner\.hvp_subsample: got 0\.2 with hvp_method "
                                          r"'finite_difference'"):
        experiment_from_dict(nav_config(learner__hvp_method="finite_difference",
                                        learner__hvp_subsample=0.2), "nav.yaml")
    with pytest.raises(ConfigError, match=r"unknown key learner\.'inner_steps'.*num_inner_steps"):
        experiment_from_dict(nav_config(learner__inner_steps=2), "nav.yaml")


def test_eval_meta_refuses_what_is_not_a_maml_checkpoint(tmp_path):
    with pytest.raises(ConfigError, match="no such checkpoint directory"):
        eval_meta_main(str(tmp_path / "missing"))
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(ConfigError, match="not a relayrl checkpoint"):
        eval_meta_main(str(tmp_path / "ckpt"))
    with pytest.raises(ConfigError, match=r"--inner-lr -0.5 must be a finite number > 0"):
        eval_meta_main(str(tmp_path / "ckpt"), inner_lr=-0.5)
    with pytest.raises(ConfigError, match=r"--episodes-per-step 0 must be >= 1"):
        eval_meta_main(str(tmp_path / "ckpt"), episodes_per_step=0)


def test_sampler_episodes_are_masked_after_the_goal_and_roundtrip_through_queue_items():
    cfg = MAMLConfig(trajectories_per_task=3, hidden_sizes=(8,))
    tasks = sample_tasks(NAVIGATION_ID, 2, np.random.default_rng(0))
    sampler = TaskSampler(NAVIGATION_ID, cfg, seed=0)
    weights = to_numpy(init_params(2, 2, (8,), seed=0))
    eps = sampler.sample(weights, tasks, num_inner_steps=1)
    assert len(eps) == 2
    for e in eps:
        assert e.obs.shape == (2, 3, 100, 2) and e.act.shape == (2, 3, 100, 2)
        # Masks are a prefix of ones; rewards (all negative distances) live only inside it.
        lengths = e.mask.sum(-1)
        assert np.all(e.mask == (np.arange(100) < lengths[..., None]))
        assert np.all(e.rew[e.mask == 0] == 0) and np.all(e.rew[e.mask == 1] < 0)
        assert np.all(e.obs[:, :, 0] == 0)  # every episode starts at the origin
    items = episodes_to_items(eps, iteration=7, task_offset=2, version=3)
    assert len(items) == 2 and items[0]["obs_0"].shape == (100, 3, 2)
    shifted = [dict(it, task_index=it["task_index"] - 2) for it in items]
    back = items_to_episodes(shifted[::-1], 2, 2, iteration=7)
    for a, b in zip(eps, back):
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.rew, b.rew)
        np.testing.assert_array_equal(a.mask, b.mask)
    with pytest.raises(RuntimeError, match="incomplete"):
        items_to_episodes(shifted[:1], 2, 2, iteration=7)
    with pytest.raises(RuntimeError, match="meta-iteration 7"):
        items_to_episodes(shifted, 2, 2, iteration=8)


def test_meta_test_reports_every_step_and_the_oracle_is_best():
    cfg = MAMLConfig(trajectories_per_task=4, hidden_sizes=(16,), inner_lr=0.5)
    policies = {"random init": to_numpy(init_params(2, 2, (16,), seed=1))}
    result = meta_test(NAVIGATION_ID, cfg, policies, num_tasks=5, seed=0, episodes_per_step=3)
    curve = result["returns"]["random init"]
    assert result["steps"] == [0, 1, 2, 3] and len(curve) == 4 and result["episodes_per_step"] == 3
    # The point moves at most 0.1 per axis per step: distance <= 0.71 + 0.1 sqrt(2) t.
    assert all(-(71 + 0.1 * 2 ** 0.5 * 5050) < r < 0 for r in curve)
    assert result["oracle"] > max(curve)
    tasks = sample_tasks(NAVIGATION_ID, 3, np.random.default_rng(5))
    oracle = navigation_oracle_returns(tasks)
    # At full speed 0.1 per axis the oracle needs at most 5 steps to any goal in [-.5, .5]^2.
    assert np.all(oracle > -5 * np.sqrt(2) * 0.5) and np.all(oracle < 0)
    yaml.safe_dump(result)  # plain data: JSON/YAML-able
    # The paper's meta-test batch: 4,000 env steps per task and step.
    assert default_episodes_per_step(NAVIGATION_ID) == 40
    assert default_episodes_per_step("relayrl/HalfCheetahVel-v0") == 20


def test_meta_test_on_tasks_from_a_file_is_the_same_meta_test_on_those_tasks(tmp_path):
    """--tasks-file: the listed tasks replace the fresh draw; per-task returns average to the table."""
    cfg = MAMLConfig(trajectories_per_task=2, hidden_sizes=(16,), inner_lr=0.5)
    policies = {"maml": to_numpy(init_params(2, 2, (16,), seed=3))}
    drawn = meta_test(NAVIGATION_ID, cfg, policies, num_tasks=3, seed=0, episodes_per_step=2)
    same = sample_tasks(NAVIGATION_ID, 3, np.random.default_rng(TEST_SEED_OFFSET + 0))
    path = tmp_path / "goals.json"
    path.write_text(json.dumps([{"goal": t["goal"].tolist()} for t in same]))
    from_file = meta_test(NAVIGATION_ID, cfg, policies, num_tasks=40, seed=0, episodes_per_step=2,
                          tasks=load_tasks_file(path, NAVIGATION_ID))
    assert from_file["num_tasks"] == 3
    assert from_file["returns"] == drawn["returns"] and from_file["oracle"] == drawn["oracle"]
    per_task = from_file["returns_per_task"]["maml"]
    assert len(per_task) == 4 and all(len(r) == 3 for r in per_task)
    np.testing.assert_allclose([np.mean(r) for r in per_task], from_file["returns"]["maml"], rtol=1e-6)
    path.write_text(json.dumps([{"goal": [0.5, 0.5]}, {"goal": [-0.5, -0.5]}, {"goal": [0.5, -0.5]}]))
    corners = meta_test(NAVIGATION_ID, cfg, policies, seed=0, episodes_per_step=2,
                        tasks=load_tasks_file(path, NAVIGATION_ID))
    assert corners["returns"] != drawn["returns"]
    assert corners["oracle"] < drawn["oracle"]  # the corners are the farthest goals


@pytest.mark.parametrize("content, message", [
    (None, r"--tasks-file .*goals\.json: cannot read it"),
    ("[{goal: 1}", r"goals\.json is not JSON"),
    ("[]", r"non-empty JSON list .* \(empty\)"),
    ('{"goal": [0.1, 0.2]}', r"non-empty JSON list of relayrl/Navigation2D-v0 tasks; got dict"),
    ('[{"goal": [0.1, 0.2]}, {"goal": [0.1, 0.9]}]', r"task 1: .*outside the family's range"),
    ('[{"velocity": 1.0}]', r"task 0: .*keys \['goal'\]"),
])
def test_a_bad_tasks_file_is_refused_naming_the_file_and_the_task(tmp_path, content, message):
    path = tmp_path / "goals.json"
    if content is not None:  # None: the file does not exist
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_tasks_file(path, NAVIGATION_ID)
