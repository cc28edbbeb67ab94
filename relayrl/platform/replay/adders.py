"""Adders: how the steps of a vector env become replay items, inside a rollout worker.

``add(obs, action, reward, terminated, truncated, next_obs, extras, mask)`` takes one step
of ``N`` envs (arrays ``[N, ...]``); ``next_obs`` is the true next observation (the final one
when an episode ended) and rows with ``mask[i] == False`` are skipped (the step in which
gymnasium's NEXT_STEP autoreset resets env ``i``). Items are collected into chunks and sent
with one ``insert_async`` call per chunk, with at most ``max_in_flight`` calls outstanding so
acting overlaps sending. ``flush()`` sends what is complete and waits for it to land;
``flush(wait=False)`` sends without waiting; ``reset()`` drops partial trajectories.

An adder sends exactly the fields of the table's signature, taken from what it produces
(listed on each class) plus ``extras``; a signature field it cannot produce is an error.

With ``frame_stack`` set (the table has a FrameStackField), observations arrive as stacks
``[N, stack, *frame_shape]``. Each env's frames get increasing numbers; a step whose
``next_obs`` is its ``obs`` shifted by one adds one new frame. A chunk carries each frame it
uses once, and items index into it. Episode ends start a fresh stack, so no stack ever mixes
frames of two episodes.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

import numpy as np
import ray

from relayrl.platform.replay.config import Field, FrameStackField, TableConfig
from relayrl.platform.replay.errors import ReplayConfigError, ReplayError, SignatureError


class _EnvFrames:
    """Frame numbering of one env: the current stack and the frames still referenced."""

    def __init__(self) -> None:
        self.store: dict[int, np.ndarray] = {}
        self.next_no = 0
        self.cur: list[int] | None = None  # frame numbers of the latest observation

    def _new(self, frame: np.ndarray) -> int:
        no = self.next_no
        self.next_no += 1
        self.store[no] = np.array(frame, copy=True)
        return no

    def start(self, stack: np.ndarray) -> list[int]:
        self.cur = [self._new(f) for f in stack]
        return self.cur

    def continues(self, stack: np.ndarray) -> bool:
        # The newest frame identifies the step (older ones were checked when they were new);
        # comparing one frame instead of the whole stack keeps this off the hot path.
        return self.cur is not None and np.array_equal(stack[-1], self.store[self.cur[-1]])

    def advance(self, obs: np.ndarray, next_obs: np.ndarray) -> list[int]:
        """Frame numbers of ``next_obs``: one new frame when it is ``obs`` shifted by one."""
        assert self.cur is not None
        if len(self.cur) > 1 and np.array_equal(next_obs[:-1], obs[1:]):
            nxt = self.cur[1:] + [self._new(next_obs[-1])]
        else:
            nxt = [self._new(f) for f in next_obs]
        self.cur = nxt
        return nxt

    def drop(self) -> None:
        """Forget the current stack (numbers keep increasing, so chunks stay consistent)."""
        self.store.clear()
        self.cur = None

    def prune(self, keep_from: int) -> None:
        for no in [n for n in self.store if n < keep_from]:
            del self.store[no]


class _Chunk:
    """Items of one future insert call; frames stored once per (env, frame number)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.frames: list[np.ndarray] = []
        self._frame_row: dict[tuple[int, int], int] = {}

    def __len__(self) -> int:
        return len(self.items)

    def rows(self, env: int, env_frames: _EnvFrames, nos: Sequence[int]) -> list[int]:
        out = []
        for no in nos:
            key = (env, no)
            row = self._frame_row.get(key)
            if row is None:
                row = self._frame_row[key] = len(self.frames)
                self.frames.append(env_frames.store[no])
            out.append(row)
        return out


class _Adder:
    produces: tuple[str, ...] = ()

    def __init__(self, client: Any, table: str, num_envs: int, *, frame_stack: int | None,
                 max_in_flight: int = 2, insert_timeout: float | None = None):
        self.client = client
        self.table = table
        self.config: TableConfig = client.table_config(table)
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ReplayConfigError(f"{type(self).__name__}: num_envs={num_envs!r} must be an "
                                    f"int >= 1")
        self.num_envs = num_envs
        ff = self.config.frame_field
        if (ff is None) != (frame_stack is None):
            raise ReplayConfigError(
                f"{type(self).__name__} for table {table!r}: frame_stack={frame_stack!r} but the "
                f"table {'has a FrameStackField' if ff else 'has no FrameStackField'}; pass "
                f"frame_stack={ff.stack if ff else None}")
        if ff is not None and frame_stack != ff.stack:
            raise ReplayConfigError(
                f"{type(self).__name__} for table {table!r}: frame_stack={frame_stack} but the "
                f"table's FrameStackField has stack={ff.stack}")
        if ff is not None and ff.name != "obs":
            raise ReplayConfigError(f"{type(self).__name__}: the FrameStackField must be named "
                                    f"'obs' (it provides obs and next_obs), got {ff.name!r}")
        self.frame_field: FrameStackField | None = ff
        self.fields = {e.name: e for e in self.config.signature if isinstance(e, Field)}
        self.max_in_flight = max(1, int(max_in_flight))
        self.insert_timeout = insert_timeout
        self._inflight: list[ray.ObjectRef] = []
        self._checked_names = False
        self.env_frames = [_EnvFrames() for _ in range(num_envs)]
        self.items_sent = 0
        self._all_rows = np.arange(num_envs)
        self._all_rows.flags.writeable = False  # shared by every unmasked step

    # ---- input checks -----------------------------------------------------------------------

    def _rows(self, mask: np.ndarray | None, arrays: dict[str, Any]) -> np.ndarray:
        n = self.num_envs
        for name, x in arrays.items():
            # ndarray.shape directly: np.shape's dispatch costs more than the check itself
            shape = x.shape if isinstance(x, np.ndarray) else np.shape(x)
            if shape[:1] != (n,):
                raise ReplayError(f"{type(self).__name__}.add: {name} must have leading size "
                                  f"num_envs={n}, got shape {list(shape)}")
        if mask is None:
            return self._all_rows
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (n,):
            raise ReplayError(f"{type(self).__name__}.add: mask must have shape [{n}], got "
                              f"{list(mask.shape)}")
        return np.flatnonzero(mask)

    def _prepare(self, obs, action, reward, terminated, truncated, next_obs, extras, mask):
        """One vector-env step as arrays, checked; returns them and the rows to record."""
        self._check_names(extras)
        obs, next_obs = np.asarray(obs), np.asarray(next_obs)
        reward, action = np.asarray(reward), np.asarray(action)
        terminated = np.asarray(terminated, dtype=bool)
        truncated = np.asarray(truncated, dtype=bool)
        rows = self._rows(mask, {"obs": obs, "action": action, "reward": reward,
                                 "terminated": terminated, "truncated": truncated,
                                 "next_obs": next_obs, **(extras or {})})
        if self.frame_field is not None:
            self._frame_check(obs)
            self._frame_check(next_obs)
        return obs, action, reward, terminated, truncated, next_obs, rows

    def _check_names(self, extras: dict[str, Any] | None) -> None:
        if self._checked_names:
            return
        available = set(self.produces) | set(extras or {})
        missing = [n for n in self.config.field_names if n not in available]
        if missing:
            raise SignatureError(
                f"{type(self).__name__} for table {self.table!r}: the signature asks for "
                f"{missing}, which this adder does not produce; it produces {list(self.produces)} "
                f"plus extras {sorted(extras or {})}")
        self._checked_names = True

    def _frame_check(self, obs: np.ndarray) -> None:
        ff = self.frame_field
        assert ff is not None
        want = (self.num_envs, ff.stack, *ff.frame_shape)
        if obs.shape != want:
            raise SignatureError(f"{type(self).__name__} for table {self.table!r}: frame-stacked "
                                 f"obs must have shape {list(want)}, got {list(obs.shape)}")

    def _enter(self, i: int, obs_i: np.ndarray, started: bool) -> list[int] | None:
        """Frame numbers of ``obs_i`` (frame mode), starting a stack when a trajectory starts."""
        if self.frame_field is None:
            return None
        ef = self.env_frames[i]
        if not started:
            return ef.start(obs_i)
        if not ef.continues(obs_i):
            raise ReplayError(
                f"{type(self).__name__}: env {i}'s obs does not continue its previous next_obs "
                f"although no episode ended; mask the autoreset step (mask[{i}] = False)")
        assert ef.cur is not None
        return ef.cur

    # ---- building and sending ---------------------------------------------------------------

    def _cast(self, name: str, values: np.ndarray) -> np.ndarray:
        f = self.fields[name]
        if tuple(values.shape[1:]) != self._field_shape(f):
            raise SignatureError(
                f"{type(self).__name__} for table {self.table!r}, field {name!r}: expected "
                f"per-item shape {list(self._field_shape(f))}, got {list(values.shape[1:])}")
        if not np.can_cast(values.dtype, f.dtype, "same_kind"):
            raise SignatureError(
                f"{type(self).__name__} for table {self.table!r}, field {name!r}: cannot cast "
                f"{values.dtype} to the signature's {f.dtype}")
        return values.astype(f.dtype, copy=False)

    def _field_shape(self, f: Field) -> tuple[int, ...]:
        return f.shape

    def _columns(self, chunk: _Chunk) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name in self.fields:
            out[name] = self._cast(name, np.stack([np.asarray(it[name]) for it in chunk.items]))
        if self.frame_field is not None:
            for name in self.frame_field.names:
                out[name] = np.array([it[name] for it in chunk.items], dtype=np.int64)
            out["frames"] = np.stack(chunk.frames).astype(self.frame_field.dtype, copy=False)
        return out

    def _send(self, payload: Any) -> None:
        ref = self.client.insert_async(self.table, payload, None, self.insert_timeout)
        self._inflight.append(ref)
        if len(self._inflight) > self.max_in_flight:
            done, self._inflight = ray.wait(self._inflight,
                                            num_returns=len(self._inflight) - self.max_in_flight)
            self.items_sent += sum(_results(done))

    def _wait_all(self) -> None:
        if self._inflight:
            refs, self._inflight = self._inflight, []
            self.items_sent += sum(_results(refs))


def _results(refs: list[ray.ObjectRef]) -> list[int]:
    from relayrl.platform.replay.client import _get

    return list(_get(refs))


def _per_env_extras(extras: dict[str, Any] | None, i: int) -> dict[str, Any]:
    return {k: np.asarray(v)[i] for k, v in (extras or {}).items()}


class _FlatNStep:
    """Buffers vector-env steps as [T, N] columns and cuts n-step items with numpy.

    ``take(final)`` returns the items whose window is complete, keeping the last
    ``n_step - 1`` steps (still needed by windows that have not ended) for later.
    """

    def __init__(self, num_envs: int, n_step: int, gamma: float):
        self.n, self.gamma, self.num_envs = n_step, gamma, num_envs
        # Steps are written in place into [capacity, N, ...] columns (grown by doubling):
        # per step that is one copy per field, and take() needs no stacking.
        self.cols: dict[str, np.ndarray] = {}
        self.t = 0

    def add(self, step: dict[str, np.ndarray]) -> None:
        # step: obs, action, reward, terminated, truncated, next_obs, start ([N] bool), extras...
        if not self.cols:
            self.cols = {k: np.empty((64, *np.shape(v)), dtype=np.asarray(v).dtype)
                         for k, v in step.items()}
        elif step.keys() != self.cols.keys():
            raise ReplayError(f"TransitionAdder.add: the fields of a step changed from "
                              f"{sorted(self.cols)} to {sorted(step)}; extras must be the same "
                              f"every step")
        if self.t == len(self.cols["start"]):
            for k, c in self.cols.items():
                grown = np.empty((2 * len(c), *c.shape[1:]), dtype=c.dtype)
                grown[: self.t] = c
                self.cols[k] = grown
        for k, v in step.items():
            if v.dtype != self.cols[k].dtype and not np.can_cast(v.dtype, self.cols[k].dtype):
                # widen the column (int rewards, then float ones), as stacking the steps would
                self.cols[k] = self.cols[k].astype(np.result_type(self.cols[k].dtype, v.dtype))
            try:
                self.cols[k][self.t] = v
            except ValueError:
                raise SignatureError(
                    f"TransitionAdder.add: {k} has shape {list(np.shape(v))}, but earlier steps "
                    f"had {[self.num_envs, *self.cols[k].shape[2:]]}") from None
        self.t += 1

    def __len__(self) -> int:
        return self.t

    def clear(self) -> None:
        self.t = 0

    def take(self) -> dict[str, np.ndarray] | None:
        if not self.t:
            return None
        n, g = self.n, self.gamma
        cols = {k: c[: self.t] for k, c in self.cols.items()}  # [T, N, ...] views
        T, N = cols["start"].shape
        term, trunc = cols["terminated"], cols["truncated"]
        done = term | trunc  # [T, N]

        def shifted(x: np.ndarray, k: int, fill) -> np.ndarray:
            """x[t + k] for every t, ``fill`` past the end."""
            if k == 0:
                return x
            out = np.empty_like(x)
            out[: T - k] = x[k:] if k < T else out[:0]
            out[max(T - k, 0):] = fill
            return out

        # end[t, i]: index k of the window's last step (first done within n steps, else n-1)
        end = np.full((T, N), n - 1, dtype=np.int64)
        ended = np.zeros((T, N), dtype=bool)
        ret = np.zeros((T, N), dtype=np.float64)
        for k in range(n):
            active = ~ended  # steps t+k still inside the window
            ret += np.where(active, g ** k * shifted(cols["reward"].astype(np.float64), k, 0.0), 0.0)
            d_k = shifted(done, k, False)
            newly = active & d_k
            end[newly] = k
            ended |= newly
        complete = ended | (np.arange(T)[:, None] + n - 1 < T)
        emit = cols["start"] & complete  # [T, N]
        t_idx, i_idx = np.nonzero(emit)
        e = end[t_idx, i_idx]
        last = t_idx + e
        term_end = term[last, i_idx]
        out = {
            "obs": cols["obs"][t_idx, i_idx],
            "action": cols["action"][t_idx, i_idx],
            "reward": ret[t_idx, i_idx],
            "next_obs": cols["next_obs"][last, i_idx],
            "discount": np.where(term_end, 0.0, g ** (e + 1)),
            "terminated": term_end,
            "truncated": trunc[last, i_idx],
        }
        for k in cols:
            if k not in out and k not in ("start", "terminated", "truncated", "reward", "done"):
                out[k] = cols[k][t_idx, i_idx]
        # keep the tail: steps that may still start (or belong to) an unfinished window
        keep_from = max(T - (n - 1), 0)
        start_tail = cols["start"][keep_from:T] & ~emit[keep_from:T]
        for c in self.cols.values():
            c[: T - keep_from] = c[keep_from:T].copy()
        self.cols["start"][: T - keep_from] = start_tail
        self.t = T - keep_from
        return out


class TransitionAdder(_Adder):
    """n-step transitions: ``obs, action, reward, next_obs, discount`` (+ extras).

    For the window starting at step ``t`` of ``k <= n_step`` steps (fewer at an episode end):
    ``reward = sum_{j<k} gamma^j r_{t+j}``, ``next_obs = s_{t+k}``, ``discount = gamma^k`` or
    ``0`` if the episode terminated inside the window (a truncated end bootstraps). Extras
    are taken at step ``t``. Also produced: ``terminated``, ``truncated`` of the window end.

    ``reward_clip`` clips each step's reward to ``[-c, c]`` before the sum.

    Flat observations take a vectorised path (steps buffered as ``[T, N]`` columns and cut
    into windows with numpy); frame stacks go through the per-env path that numbers frames.
    """

    produces = ("obs", "action", "reward", "next_obs", "discount", "terminated", "truncated")

    def __init__(self, client: Any, table: str, num_envs: int, *, n_step: int = 1,
                 gamma: float = 0.99, chunk_size: int = 64, frame_stack: int | None = None,
                 max_in_flight: int = 2, insert_timeout: float | None = None,
                 reward_clip: float | None = None):
        super().__init__(client, table, num_envs, frame_stack=frame_stack,
                         max_in_flight=max_in_flight, insert_timeout=insert_timeout)
        if self.config.kind != "transition":
            raise ReplayConfigError(f"TransitionAdder: table {table!r} has kind "
                                    f"{self.config.kind!r}, expected 'transition'")
        if not isinstance(n_step, int) or n_step < 1:
            raise ReplayConfigError(f"TransitionAdder: n_step={n_step!r} must be an int >= 1")
        if not 0.0 <= gamma <= 1.0:
            raise ReplayConfigError(f"TransitionAdder: gamma={gamma!r} must be in [0, 1]")
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ReplayConfigError(f"TransitionAdder: chunk_size={chunk_size!r} must be an "
                                    f"int >= 1")
        if reward_clip is not None and not reward_clip > 0:
            raise ReplayConfigError(f"TransitionAdder: reward_clip={reward_clip!r} must be > 0 "
                                    "or None")
        self.n_step, self.gamma, self.chunk_size = n_step, float(gamma), chunk_size
        # Each step's reward is clipped before the n-step sum (DQN's Atari protocol).
        self.reward_clip = reward_clip
        self._flat = _FlatNStep(num_envs, n_step, float(gamma)) if self.frame_field is None else None
        self._window: list[collections.deque] = [collections.deque() for _ in range(num_envs)]
        self._started = np.zeros(num_envs, dtype=bool)
        self._chunk = _Chunk()

    def add(self, obs, action, reward, terminated, truncated, next_obs,
            extras: dict[str, np.ndarray] | None = None, mask: np.ndarray | None = None) -> None:
        obs, action, reward, terminated, truncated, next_obs, rows = self._prepare(
            obs, action, reward, terminated, truncated, next_obs, extras, mask)
        if self.reward_clip is not None:
            reward = np.clip(reward, -self.reward_clip, self.reward_clip)
        if self._flat is not None:
            start = np.zeros(self.num_envs, dtype=bool)
            start[rows] = True
            # _FlatNStep copies each array into its columns, so no copy is taken here
            step = {"obs": obs, "action": action, "reward": reward, "terminated": terminated,
                    "truncated": truncated, "next_obs": next_obs, "start": start}
            step.update({k: np.asarray(v) for k, v in (extras or {}).items()})
            self._flat.add(step)
            if len(self._flat) * self.num_envs >= self.chunk_size:
                self._send_flat()
            return
        for i in rows.tolist():
            obs_nos = self._enter(i, obs[i], bool(self._started[i]))
            self._started[i] = True
            if obs_nos is not None:
                next_nos = self.env_frames[i].advance(obs[i], next_obs[i])
                o, no = obs_nos, next_nos
            else:
                o, no = np.array(obs[i], copy=True), np.array(next_obs[i], copy=True)
            win = self._window[i]
            win.append((o, action[i], float(reward[i]), no, _per_env_extras(extras, i)))
            term, trunc = bool(terminated[i]), bool(truncated[i])
            if term or trunc:
                while win:
                    self._emit(i, win, terminal=term, truncated=trunc)
                    win.popleft()
                self._started[i] = False
            elif len(win) == self.n_step:
                self._emit(i, win, terminal=False, truncated=False)
                win.popleft()
            if obs_nos is not None:
                ef = self.env_frames[i]
                first = win[0][0][0] if win else (ef.cur[0] if self._started[i] else ef.next_no)
                ef.prune(first)
        if len(self._chunk) >= self.chunk_size:
            self._send_chunk()

    def _emit(self, i: int, win: collections.deque, *, terminal: bool, truncated: bool) -> None:
        """The item for the window's first step: n-step return up to the window's last step."""
        k = len(win)
        ret = sum(self.gamma ** j * win[j][2] for j in range(k))
        obs, action, _, _, extras = win[0]
        next_obs = win[-1][3]
        item = dict(extras)
        item.update(action=action, reward=ret, discount=0.0 if terminal else self.gamma ** k,
                    terminated=terminal, truncated=truncated)
        if self.frame_field is not None:
            item["obs"] = self._chunk.rows(i, self.env_frames[i], obs)
            item["next_obs"] = self._chunk.rows(i, self.env_frames[i], next_obs)
        else:
            item["obs"], item["next_obs"] = obs, next_obs
        self._chunk.items.append(item)

    def _send_chunk(self) -> None:
        if len(self._chunk):
            chunk, self._chunk = self._chunk, _Chunk()
            self._send(self._columns(chunk))

    def _send_flat(self) -> None:
        assert self._flat is not None
        items = self._flat.take()
        if items is not None and len(items["action"]):
            self._send({name: self._cast(name, items[name]) for name in self.fields})

    def flush(self, wait: bool = True) -> None:
        """Send the complete items collected so far; with ``wait``, until they are in the table.

        Off-policy writers pass ``wait=False`` to keep acting while the insert travels (the
        in-flight bound still applies); on-policy writers wait so the learner sees the batch.
        """
        if self._flat is not None:
            self._send_flat()
        self._send_chunk()
        if wait:
            self._wait_all()

    def reset(self) -> None:
        """Drop every env's partial n-step window (complete items are kept for the next send)."""
        if self._flat is not None:
            self._send_flat()  # complete windows are kept, as on the per-env path
            self._flat.clear()
        for i in range(self.num_envs):
            self._window[i].clear()
            self.env_frames[i].drop()
        self._started[:] = False


class _StepBuffer:
    """Per-env steps of a trajectory piece, for episode and sequence adders."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []


class EpisodeAdder(_Adder):
    """Whole episodes: ``obs, action, reward, next_obs, terminated, truncated`` ``[T]`` (+ extras).

    An episode longer than ``max_episode_length`` is written in pieces, each piece's last
    step marked ``truncated=True``; the next piece starts where it stopped.
    """

    produces = ("obs", "action", "reward", "next_obs", "terminated", "truncated")

    def __init__(self, client: Any, table: str, num_envs: int, *,
                 max_episode_length: int | None = None, frame_stack: int | None = None,
                 max_in_flight: int = 2, insert_timeout: float | None = None):
        super().__init__(client, table, num_envs, frame_stack=frame_stack,
                         max_in_flight=max_in_flight, insert_timeout=insert_timeout)
        if self.config.kind != "episode":
            raise ReplayConfigError(f"EpisodeAdder: table {table!r} has kind "
                                    f"{self.config.kind!r}, expected 'episode'")
        limit = self.config.max_episode_length
        if max_episode_length is None:
            max_episode_length = limit
        if max_episode_length is not None and (not isinstance(max_episode_length, int)
                                               or max_episode_length < 1):
            raise ReplayConfigError(f"EpisodeAdder: max_episode_length={max_episode_length!r} "
                                    f"must be None or an int >= 1")
        if limit is not None and max_episode_length is not None and max_episode_length > limit:
            raise ReplayConfigError(
                f"EpisodeAdder: max_episode_length={max_episode_length} exceeds the table's "
                f"max_episode_length={limit}")
        self.max_episode_length = max_episode_length
        self._buf = [_StepBuffer() for _ in range(num_envs)]
        self._started = np.zeros(num_envs, dtype=bool)

    def add(self, obs, action, reward, terminated, truncated, next_obs,
            extras: dict[str, np.ndarray] | None = None, mask: np.ndarray | None = None) -> None:
        obs, action, reward, terminated, truncated, next_obs, rows = self._prepare(
            obs, action, reward, terminated, truncated, next_obs, extras, mask)
        finished = []
        for i in rows.tolist():
            obs_nos = self._enter(i, obs[i], bool(self._started[i]))
            self._started[i] = True
            if obs_nos is not None:
                o, no = obs_nos, self.env_frames[i].advance(obs[i], next_obs[i])
            else:
                o, no = np.array(obs[i], copy=True), np.array(next_obs[i], copy=True)
            term, trunc = bool(terminated[i]), bool(truncated[i])
            buf = self._buf[i].steps
            buf.append({"obs": o, "next_obs": no, "action": action[i], "reward": reward[i],
                        "terminated": term, "truncated": trunc, **_per_env_extras(extras, i)})
            full = self.max_episode_length is not None and len(buf) >= self.max_episode_length
            if term or trunc or full:
                buf[-1]["truncated"] = trunc or (full and not term)
                finished.append(self._episode(i, buf))
                self._buf[i].steps = []
                if term or trunc:
                    self._started[i] = False
                if self.frame_field is not None:
                    ef = self.env_frames[i]
                    ef.prune(ef.cur[0] if self._started[i] and ef.cur else ef.next_no)
        if finished:
            self._send(finished)

    def _episode(self, i: int, steps: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        chunk = _Chunk()
        chunk.items = steps
        out: dict[str, np.ndarray] = {}
        for name in self.fields:
            out[name] = self._cast(name, np.stack([np.asarray(s[name]) for s in steps]))
        if self.frame_field is not None:
            ef = self.env_frames[i]
            for name in self.frame_field.names:
                out[name] = np.array([chunk.rows(i, ef, s[name]) for s in steps], dtype=np.int64)
            out["frames"] = np.stack(chunk.frames).astype(self.frame_field.dtype, copy=False)
        return out

    def flush(self, wait: bool = True) -> None:
        """Wait until every finished episode is in the table (partial episodes stay)."""
        if wait:
            self._wait_all()

    def reset(self) -> None:
        """Drop every env's partial episode."""
        for i in range(self.num_envs):
            self._buf[i].steps = []
            self.env_frames[i].drop()
        self._started[:] = False


class SequenceAdder(_Adder):
    """Fixed-length sequences ``[L]`` of ``obs, action, reward, next_obs, terminated,
    truncated, mask`` (+ extras), consecutive ones sharing ``overlap`` steps.

    At an episode end the unsent steps become one last sequence, padded to ``L`` with
    zeros (frame stacks repeat the last real step) and ``mask = False`` on the padding, or
    are dropped with ``pad_episode_end=False``. Sequences never cross an episode end.
    ``flush_partial=True`` (on-policy fragments) also cuts and pads at every ``flush``.
    """

    produces = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "mask")

    def __init__(self, client: Any, table: str, num_envs: int, *, sequence_length: int,
                 overlap: int = 0, pad_episode_end: bool = True, chunk_size: int = 16,
                 frame_stack: int | None = None, max_in_flight: int = 2,
                 insert_timeout: float | None = None, flush_partial: bool = False):
        super().__init__(client, table, num_envs, frame_stack=frame_stack,
                         max_in_flight=max_in_flight, insert_timeout=insert_timeout)
        c = self.config
        if c.kind != "sequence":
            raise ReplayConfigError(f"SequenceAdder: table {table!r} has kind {c.kind!r}, "
                                    f"expected 'sequence'")
        if sequence_length != c.sequence_length:
            raise ReplayConfigError(f"SequenceAdder: sequence_length={sequence_length!r} differs "
                                    f"from the table's sequence_length={c.sequence_length}")
        if not isinstance(overlap, int) or not 0 <= overlap < sequence_length:
            raise ReplayConfigError(f"SequenceAdder: overlap={overlap!r} must be an int in "
                                    f"[0, {sequence_length})")
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ReplayConfigError(f"SequenceAdder: chunk_size={chunk_size!r} must be an "
                                    f"int >= 1")
        self.L, self.overlap, self.pad = sequence_length, overlap, bool(pad_episode_end)
        # On-policy fragments: flush() also sends each env's unfinished sequence (padded), so
        # every step reaches the learner with the policy version that acted it.
        self.flush_partial = bool(flush_partial)
        self.chunk_size = chunk_size
        self._buf = [_StepBuffer() for _ in range(num_envs)]
        self._fresh = np.zeros(num_envs, dtype=np.int64)  # buffered steps not yet sent
        self._started = np.zeros(num_envs, dtype=bool)
        self._chunk = _Chunk()

    def _field_shape(self, f: Field) -> tuple[int, ...]:
        return (self.L, *f.shape)

    def add(self, obs, action, reward, terminated, truncated, next_obs,
            extras: dict[str, np.ndarray] | None = None, mask: np.ndarray | None = None) -> None:
        obs, action, reward, terminated, truncated, next_obs, rows = self._prepare(
            obs, action, reward, terminated, truncated, next_obs, extras, mask)
        for i in rows.tolist():
            obs_nos = self._enter(i, obs[i], bool(self._started[i]))
            self._started[i] = True
            if obs_nos is not None:
                o, no = obs_nos, self.env_frames[i].advance(obs[i], next_obs[i])
            else:
                o, no = np.array(obs[i], copy=True), np.array(next_obs[i], copy=True)
            term, trunc = bool(terminated[i]), bool(truncated[i])
            buf = self._buf[i].steps
            buf.append({"obs": o, "next_obs": no, "action": action[i], "reward": reward[i],
                        "terminated": term, "truncated": trunc, "mask": True,
                        **_per_env_extras(extras, i)})
            self._fresh[i] += 1
            if len(buf) == self.L:
                self._emit(i, buf)
                self._buf[i].steps = buf[self.L - self.overlap:] if self.overlap else []
                self._fresh[i] = 0
            if term or trunc:
                if self._fresh[i] > 0 and self.pad:
                    self._emit(i, self._padded(buf))
                self._buf[i].steps = []
                self._fresh[i] = 0
                self._started[i] = False
            if obs_nos is not None:
                ef = self.env_frames[i]
                rest = self._buf[i].steps
                ef.prune(rest[0]["obs"][0] if rest else
                         (ef.cur[0] if self._started[i] and ef.cur else ef.next_no))
        if len(self._chunk) >= self.chunk_size:
            self._send_chunk()

    def _padded(self, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        last = steps[-1]
        pad = {k: (v if k in ("obs", "next_obs") and self.frame_field is not None
                   else np.zeros_like(np.asarray(v))) for k, v in last.items()}
        pad["mask"] = False
        return steps + [pad] * (self.L - len(steps))

    def _emit(self, i: int, steps: list[dict[str, Any]]) -> None:
        item: dict[str, Any] = {}
        for name in self.fields:
            item[name] = np.stack([np.asarray(s[name]) for s in steps])
        if self.frame_field is not None:
            ef = self.env_frames[i]
            for name in self.frame_field.names:
                item[name] = [self._chunk.rows(i, ef, s[name]) for s in steps]
        self._chunk.items.append(item)

    def _send_chunk(self) -> None:
        if len(self._chunk):
            chunk, self._chunk = self._chunk, _Chunk()
            self._send(self._columns(chunk))

    def flush(self, wait: bool = True) -> None:
        """Send the complete sequences collected so far and (``wait``) until they are in the table.

        With ``flush_partial``, unfinished sequences are sent too (padded) and the episode
        goes on in a fresh sequence.
        """
        if self.flush_partial:
            for i in range(self.num_envs):
                buf = self._buf[i].steps
                if self._fresh[i] > 0:
                    self._emit(i, self._padded(buf))
                self._buf[i].steps = []
                self._fresh[i] = 0
        self._send_chunk()
        if wait:
            self._wait_all()

    def reset(self) -> None:
        """Drop every env's partial sequence."""
        for i in range(self.num_envs):
            self._buf[i].steps = []
            self.env_frames[i].drop()
        self._fresh[:] = 0
        self._started[:] = False
