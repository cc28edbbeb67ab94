"""``relayrl eval CHECKPOINT``: run a checkpoint's policy without exploration, in-process.

Needs no Ray and no replay: the checkpoint carries its config and the policy weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from relayrl.platform.config import ConfigError, experiment_from_dict


def load_policy(checkpoint: str | Path, seed: int = 0):
    """(config, env info, policy with the checkpoint's weights)."""
    from relayrl.agents.registry import get_algorithm
    from relayrl.platform.algorithm import EnvInfo
    from relayrl.platform.experiment import read_checkpoint_marker

    d = Path(checkpoint)
    read_checkpoint_marker(d)
    try:
        data = yaml.safe_load((d / "config.yaml").read_text())
        cfg = experiment_from_dict(data, source=str(d / "config.yaml"))
        weights = torch.load(d / "policy_weights.pt", weights_only=False)
    except (yaml.YAMLError, EOFError, RuntimeError, OSError) as e:
        raise ConfigError(f"{d}: corrupt checkpoint ({type(e).__name__}: {e})") from None
    env_info = EnvInfo.probe(cfg)
    policy = get_algorithm(cfg.algorithm).make_policy(cfg, env_info, seed=seed)
    try:
        policy.set_weights(weights)
    except (RuntimeError, KeyError) as e:
        raise ConfigError(f"{d}: policy weights do not fit the config's network ({e})") from None
    return cfg, env_info, policy


def evaluate_checkpoint(checkpoint: str | Path, *, episodes: int = 10, num_envs: int | None = None,
                        seed: int = 12345) -> dict[str, Any]:
    """Greedy returns of ``episodes`` full episodes."""
    from relayrl.envs import make_vector_env

    if episodes < 1:
        raise ConfigError(f"--episodes: got {episodes}, must be >= 1")
    cfg, _, policy = load_policy(checkpoint, seed)
    n = min(num_envs or cfg.env.num_envs, episodes)
    venv = make_vector_env(cfg.env.id, n, seed=seed, env_kwargs=cfg.env.kwargs)
    returns: list[float] = []
    lengths: list[int] = []
    try:
        obs, _ = venv.reset(seed=seed)
        ep_ret = np.zeros(n)
        ep_len = np.zeros(n, dtype=np.int64)
        resetting = np.zeros(n, dtype=bool)
        while len(returns) < episodes:
            actions, _ = policy.compute_actions(obs, env_steps=0, explore=False)
            obs, r, term, trunc, _ = venv.step(actions)
            valid = ~resetting
            ep_ret[valid] += r[valid]
            ep_len[valid] += 1
            done = (term | trunc) & valid
            for i in np.flatnonzero(done):
                if len(returns) < episodes:
                    returns.append(float(ep_ret[i]))
                    lengths.append(int(ep_len[i]))
            ep_ret[done] = 0
            ep_len[done] = 0
            resetting = done
    finally:
        venv.close()
    return {
        "checkpoint": str(checkpoint), "env": cfg.env.id, "episodes": episodes,
        "return_mean": float(np.mean(returns)), "return_std": float(np.std(returns)),
        "len_mean": float(np.mean(lengths)), "returns": returns,
    }
