"""The PettingZoo and RLlib adapters pass their ecosystems' own API checks and run on an EnvRunner."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from relayrl.envs.smaclike.pettingzoo_env import SMACLikeParallelEnv


@pytest.mark.parametrize("map_name", ["3m", "MMM2"])
def test_pettingzoo_parallel_api_test(map_name):
    env = SMACLikeParallelEnv(map_name, seed=0)
    parallel_api_test(env, num_cycles=400)


def test_pettingzoo_masks_and_shared_reward():
    env = SMACLikeParallelEnv("3m", seed=1)
    obs, infos = env.reset(seed=1)
    assert set(obs) == set(env.possible_agents)
    for o in obs.values():
        assert env.observation_space("agent_0").contains(o)
        assert o["action_mask"][0] == 0 and o["action_mask"][1] == 1  # alive: no no-op, stop allowed
    rewards_seen = []
    while env.agents:
        acts = {a: int(np.flatnonzero(obs[a]["action_mask"])[-1]) for a in env.agents}
        obs, rew, term, trunc, info = env.step(acts)
        assert len(set(rew.values())) == 1  # one team reward
        rewards_seen.append(next(iter(rew.values())))
    assert any(r > 0 for r in rewards_seen)


def test_pettingzoo_unavailable_action_raises_unless_replaced():
    env = SMACLikeParallelEnv("3m", seed=0)
    env.reset()
    with pytest.raises(ValueError, match="cannot perform action 6"):
        env.step({a: 6 for a in env.agents})  # enemies are 14 apart: nobody can attack yet
    env2 = SMACLikeParallelEnv("3m", seed=0, unavailable_action="stop")
    env2.reset()
    _, _, _, _, info = env2.step({a: 6 for a in env2.agents})
    assert info["agent_0"]["replaced_actions"] == 3


def test_rllib_env_checker_passes():
    from ray.rllib.utils.pre_checks.env import check_multiagent_environments

    from relayrl.envs.smaclike.rllib_env import SMACLikeRLlibEnv

    env = SMACLikeRLlibEnv({"map_name": "3m", "seed": 0, "unavailable_action": "stop"})
    check_multiagent_environments(env)
    obs, _ = env.reset(seed=3)
    done = False
    while not done:
        acts = {a: int(np.flatnonzero(obs[a]["action_mask"])[-1]) for a in obs}
        obs, rew, term, trunc, info = env.step(acts)
        for a, o in obs.items():
            assert env.observation_spaces[a].contains(o)
        done = term["__all__"] or trunc["__all__"]


def test_rllib_multi_agent_env_runner_samples(ray_session):
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule
    from ray.tune.registry import register_env

    from relayrl.envs.smaclike.rllib_env import SMACLikeRLlibEnv

    register_env("smaclike_test", lambda cfg: SMACLikeRLlibEnv(cfg))
    config = (
        PPOConfig()
        # strict env: a masked policy must never choose an unavailable action
        .environment(
            "smaclike_test",
            env_config={"map_name": "3m", "seed": 0, "unavailable_action": "raise"},
            disable_env_checking=True,  # the checker steps unmasked random actions (covered above)
        )
        .multi_agent(policies={"shared"}, policy_mapping_fn=lambda agent_id, episode, **kw: "shared")
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={"shared": RLModuleSpec(module_class=ActionMaskingTorchRLModule)}))
        .env_runners(num_env_runners=0, num_envs_per_env_runner=1)
    )
    runner = MultiAgentEnvRunner(config=config)
    episodes = runner.sample(num_timesteps=300, random_actions=False)
    steps = sum(e.env_steps() for e in episodes)
    assert steps >= 300
    assert any(e.is_done for e in episodes)  # 3m battles end well within 300 steps
    runner.stop()
