"""EBU's learning side: sample one episode, compute its backward targets, learn from its end.

One :meth:`EBULearner.update` is one minibatch gradient step, as for DQN, so the platform's
``updates_per_env_step`` means the same for both. The learner keeps a queue of pending
minibatches: when it is empty it samples a new episode from the ``episodes`` table, computes
the targets of every transition with the target network (:func:`backward_targets`), and
queues minibatches of ``batch_size`` transitions from the episode's end to its start (the
paper's order: the first update already sees the reward). Until the first episode has ended
there is nothing to learn from; such an update is a no-op reported as
``waiting_for_episodes`` (it does not block the rollouts).

Adaptive EBU (``num_heads > 1``): head ``h`` of one Q-network learns with ``betas[h]``. The
acting head rotates over the heads (each acts for ``adaptive_sync_period / num_heads``
updates), episodes carry the head that played them, and every ``adaptive_sync_period``
updates the head whose recent episodes returned most is copied into every head, as the paper
copies the best of its K learners into the others. Evaluation acts with that best head.
"""

from __future__ import annotations

import collections
import copy
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from relayrl.agents.dqn.ebu import backward_targets
from relayrl.agents.dqn.ebu_config import EBUConfig
from relayrl.agents.dqn.learner import learner_device, make_optimizer, sync_target
from relayrl.agents.dqn.policy import build_q_network
from relayrl.platform.algorithm import EnvInfo
from relayrl.platform.config import ExperimentConfig

TARGET_CHUNK = 512  # next states per target-network forward pass (bounds memory on long episodes)


def per_head(q: torch.Tensor) -> torch.Tensor:
    """QNetwork output as ``[B, num_heads, A]`` whether it has one head or several."""
    return q.unsqueeze(1) if q.dim() == 2 else q


class EBULearner:
    """Learns from whole episodes of the ``episodes`` table; see the module docstring."""

    table = "episodes"

    def __init__(self, cfg: ExperimentConfig, env_info: EnvInfo, client: Any):
        self.cfg: EBUConfig = cfg.learner
        self.client = client
        self.device = learner_device(cfg)
        torch.manual_seed(cfg.seed)
        lc = self.cfg
        self.betas = lc.betas
        self.num_heads = lc.num_heads
        self.q = build_q_network(lc, env_info.obs_shape, env_info.num_actions,
                                 num_heads=lc.num_heads).to(self.device)
        self.target = copy.deepcopy(self.q).requires_grad_(False)
        self.opt = make_optimizer(self.q.parameters(), lc)
        self.num_updates = 0
        self.num_episodes = 0  # episodes sampled (each gives ceil(T / batch_size) updates)
        self.pending: collections.deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = (
            collections.deque())
        self.episode_length = 0
        # Returns of episodes the learner sees for the first time, per head that played them.
        self.head_returns = [collections.deque(maxlen=lc.head_return_window)
                             for _ in range(self.num_heads)]
        self.recent_returns: collections.deque[float] = collections.deque(maxlen=100)
        self.seen_keys: collections.OrderedDict[int, None] = collections.OrderedDict()
        self.best_head = 0
        self.game = atari_game(env_info.env_id, lc)

    # ------------------------------------------------------------------ episodes -> minibatches

    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        return torch.tensor(x, device=self.device)  # copies: replay arrays are read-only

    def _target_q(self, next_obs: np.ndarray) -> torch.Tensor:
        """Q~ = Q_target(S_{k+1}, .) for the whole episode: ``[T, num_heads, A]``."""
        with torch.no_grad():
            parts = [per_head(self.target(self._tensor(next_obs[i:i + TARGET_CHUNK])))
                     for i in range(0, len(next_obs), TARGET_CHUNK)]
        return torch.cat(parts).cpu()

    def _next_episode(self) -> bool:
        """Queue the minibatches of a newly sampled episode; False if none was finished yet."""
        from relayrl.platform.replay import ReplayTimeoutError

        lc = self.cfg
        try:
            # Until the first episode ends there is nothing to wait for: don't block the loop
            # (rollouts continue); afterwards the table is never empty again.
            timeout = lc.sample_timeout_s if self.num_episodes else 0.0
            ep = self.client.sample_episodes(self.table, 1, timeout=timeout)[0]
        except ReplayTimeoutError:
            if self.num_episodes:
                raise
            return False
        self._record_return(ep)
        actions = ep["action"].astype(np.int64)  # [T]
        rewards = ep["reward"].astype(np.float32)  # [T]
        if lc.reward_clip is not None:
            rewards = np.clip(rewards, -lc.reward_clip, lc.reward_clip)
        terminals = ep["terminated"].astype(bool)  # [T] S_{k+1} terminal (truncation is not)
        q_next = self._target_q(ep["next_obs"])  # [T, K, A]
        y = np.stack([
            backward_targets(q_next[:, h].numpy(), actions, rewards, terminals, lc.gamma, beta)
            for h, beta in enumerate(self.betas)
        ], axis=1).astype(np.float32)  # [T, K]
        T = len(actions)
        for end in range(T, 0, -lc.batch_size):  # minibatches from the episode's end
            start = max(0, end - lc.batch_size)
            self.pending.append((ep["obs"][start:end], actions[start:end], y[start:end]))
        self.episode_length = T
        self.num_episodes += 1
        return True

    def _record_return(self, ep: dict[str, np.ndarray]) -> None:
        """First sight of a whole episode: its return counts for the head that played it."""
        key = int(ep["key"])
        if key in self.seen_keys:
            return
        self.seen_keys[key] = None
        if len(self.seen_keys) > 100_000:
            self.seen_keys.popitem(last=False)
        if self.cfg.max_episode_length is not None:
            return  # pieces of episodes: their returns are partial
        ret = float(ep["reward"].sum())
        self.recent_returns.append(ret)
        if self.num_heads > 1:
            head = int(np.bincount(ep["head"], minlength=self.num_heads).argmax())
            self.head_returns[head].append(ret)

    # ------------------------------------------------------------------ one update

    def update(self) -> dict[str, float]:
        lc = self.cfg
        if not self.pending and not self._next_episode():
            return {"waiting_for_episodes": 1.0}  # no episode has ended yet: no gradient step
        obs, actions, y = self.pending.popleft()
        q_tm1 = per_head(self.q(self._tensor(obs)))  # [B, K, A]
        a_tm1 = self._tensor(actions).view(-1, 1, 1).expand(-1, self.num_heads, 1)  # [B, K, 1]
        qa_tm1 = q_tm1.gather(2, a_tm1).squeeze(2)  # [B, K] Q(S_k, A_k) per head
        y_t = self._tensor(y)  # [B, K] backward targets y_k per head (beta_h)
        # L = mean_k,h Huber(y_k^h - Q_h(S_k, A_k))
        loss = F.huber_loss(qa_tm1, y_t, delta=lc.huber_delta)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(
            self.q.parameters(), lc.max_grad_norm if lc.max_grad_norm else float("inf"))
        self.opt.step()
        self.num_updates += 1
        if self.num_updates % lc.target_update_period == 0:
            sync_target(self.target, self.q, lc.target_update_tau)
        if self.num_heads > 1 and self.num_updates % lc.adaptive_sync_period == 0:
            self._adopt_best_head()
        out = {
            "loss": float(loss.item()),
            "q_mean": float(qa_tm1.detach().mean().item()),
            "target_mean": float(y_t.mean().item()),
            "grad_norm": float(grad_norm.item()),
            "episode_length": float(self.episode_length),
            "episodes_sampled": float(self.num_episodes),
            "waiting_for_episodes": 0.0,
        }
        if self.recent_returns:
            mean_return = float(np.mean(self.recent_returns))
            out["replay_episode_return"] = mean_return
            if self.game is not None:
                from relayrl.envs.atari_scores import human_normalized_score

                out["replay_episode_return_hns"] = human_normalized_score(self.game, mean_return)
        if self.num_heads > 1:
            out["acting_head"] = float(self.acting_head)
            out["best_head"] = float(self.best_head)
        return out

    # ------------------------------------------------------------------ adaptive EBU

    @property
    def acting_head(self) -> int:
        """The head the rollout workers follow now: each head in turn within a sync period."""
        per_head_updates = max(1, self.cfg.adaptive_sync_period // self.num_heads)
        return (self.num_updates // per_head_updates) % self.num_heads

    def head_scores(self) -> list[float]:
        """Mean return of each head's recent episodes (-inf for a head with none yet)."""
        return [float(np.mean(r)) if r else -math.inf for r in self.head_returns]

    def _adopt_best_head(self) -> None:
        scores = self.head_scores()
        if all(math.isinf(s) for s in scores):
            return
        self.best_head = int(np.argmax(scores))
        for net in (self.q, self.target):
            copy_head(net, self.best_head)
        for r in self.head_returns:
            r.clear()

    # ------------------------------------------------------------------ weights, checkpoints

    def get_weights(self) -> Any:
        state = {k: v.detach().cpu().numpy() for k, v in self.q.state_dict().items()}
        if self.num_heads == 1:
            return state
        return {"state_dict": state, "head": self.acting_head, "eval_head": self.best_head}

    def state_dict(self) -> dict[str, Any]:
        # Pending minibatches are not saved: after a restore the next update samples anew.
        return {
            "q": self.q.state_dict(), "target": self.target.state_dict(),
            "opt": self.opt.state_dict(), "num_updates": self.num_updates,
            "num_episodes": self.num_episodes, "best_head": self.best_head,
            "head_returns": [list(r) for r in self.head_returns],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.q.load_state_dict(state["q"])
        self.target.load_state_dict(state["target"])
        self.opt.load_state_dict(state["opt"])
        self.num_updates = state["num_updates"]
        self.num_episodes = state["num_episodes"]
        self.best_head = state["best_head"]
        for r, saved in zip(self.head_returns, state["head_returns"]):
            r.clear()
            r.extend(saved)
        self.pending.clear()


def copy_head(net: torch.nn.Module, source: int) -> None:
    """Overwrite every output head of a QNetwork with head ``source`` (torso is shared)."""
    k, a = net.num_heads, net.num_actions
    with torch.no_grad():
        w = net.advantage.weight.view(k, a, -1)  # [K, A, F]
        w.copy_(w[source].unsqueeze(0).expand_as(w).clone())
        b = net.advantage.bias.view(k, a)
        b.copy_(b[source].unsqueeze(0).expand_as(b).clone())
        if net.value is not None:
            net.value.weight.copy_(net.value.weight[source].expand_as(net.value.weight).clone())
            net.value.bias.fill_(float(net.value.bias[source]))


def atari_game(env_id: str, lc: EBUConfig) -> str | None:
    """The ROM name when replayed episodes are whole Atari games (scores can be normalized)."""
    if lc.terminal_on_life_loss or lc.max_episode_length is not None:
        return None
    from relayrl.envs.atari_scores import REFERENCE_SCORES, rom_name

    if env_id.startswith("ALE/") and rom_name(env_id) in REFERENCE_SCORES:
        return rom_name(env_id)
    return None
