"""A sparse-reward grid maze seen through handwritten digits (EBU's "MNIST maze").

Lee et al. (NeurIPS 2019) test Episodic Backward Update on a 10x10 maze with random walls
whose states are shown as images of handwritten digits of the agent's coordinates, so the
agent has to learn the geometry from pixels and the only reward is at the goal. This is that
task with scikit-learn's bundled digits (``sklearn.datasets.load_digits``: 1,797 8x8 images,
no download) instead of MNIST:

- The agent starts at (0, 0); the goal is (size-1, size-1); each cell other than those two is
  a wall with probability ``wall_density``. The layout is drawn from ``maze_seed`` (redrawn
  until the goal is reachable), so one ``maze_seed`` is one fixed task whatever the reset
  seed.
- Actions: 0 up, 1 down, 2 left, 3 right. Moving into a wall or the border leaves the agent
  where it is. With ``slip_probability`` the action is replaced by a uniformly random one
  (the paper's stochastic variant).
- Reward 1 on reaching the goal (the episode terminates there), 0 otherwise. The time limit
  (``max_episode_steps`` at registration) truncates, it does not terminate.
- Observation ``[8, 16]`` float32 in [0, 1]: a handwritten image of the row digit next to
  one of the column digit, a fresh random instance of each digit at every step.

``env.unwrapped.optimal_path_length`` is the shortest path length (breadth-first search), the
yardstick of the EBU benchmark ("steps until the greedy path is within 10% of optimal").
"""

from __future__ import annotations

import functools
from collections import deque

import gymnasium as gym
import numpy as np

ENV_ID = "relayrl/DigitMaze-v0"
MAX_EPISODE_STEPS = 1_000
MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])  # up, down, left, right: (d_row, d_col)


@functools.lru_cache(maxsize=1)
def digit_images() -> tuple[np.ndarray, ...]:
    """For each digit 0-9, its handwritten 8x8 images scaled to [0, 1] (float32)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)
    return tuple(images[data.target == d] for d in range(10))


def shortest_path_length(walls: np.ndarray, start: tuple[int, int], goal: tuple[int, int]) -> int | None:
    """Breadth-first search on the 4-connected grid; None when the goal is unreachable."""
    n_rows, n_cols = walls.shape
    dist = np.full(walls.shape, -1, dtype=np.int64)
    dist[start] = 0
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        if (r, c) == goal:
            return int(dist[r, c])
        for dr, dc in MOVES:
            nr, nc = r + dr, c + dc
            if 0 <= nr < n_rows and 0 <= nc < n_cols and not walls[nr, nc] and dist[nr, nc] < 0:
                dist[nr, nc] = dist[r, c] + 1
                queue.append((nr, nc))
    return None


def generate_walls(size: int, wall_density: float, maze_seed: int) -> np.ndarray:
    """A ``[size, size]`` bool wall layout with a free path from (0, 0) to the far corner."""
    rng = np.random.default_rng(maze_seed)
    start, goal = (0, 0), (size - 1, size - 1)
    for _ in range(10_000):
        walls = rng.random((size, size)) < wall_density
        walls[start] = walls[goal] = False
        if shortest_path_length(walls, start, goal) is not None:
            return walls
    raise ValueError(f"DigitMaze: no solvable {size}x{size} maze with wall_density="
                     f"{wall_density} in 10000 draws; lower wall_density")


class DigitMazeEnv(gym.Env):
    """The maze; see the module docstring."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 8}

    def __init__(self, size: int = 10, wall_density: float = 0.3, maze_seed: int = 0,
                 slip_probability: float = 0.0, render_mode: str | None = None):
        if isinstance(size, bool) or not isinstance(size, int) or not 2 <= size <= 10:
            raise ValueError(f"DigitMaze: size={size!r} must be an int in [2, 10] (coordinates "
                             "are shown as single digits)")
        if not 0.0 <= wall_density < 1.0:
            raise ValueError(f"DigitMaze: wall_density={wall_density!r} must be in [0, 1)")
        if not 0.0 <= slip_probability <= 1.0:
            raise ValueError(f"DigitMaze: slip_probability={slip_probability!r} must be in [0, 1]")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"DigitMaze: render_mode={render_mode!r}; allowed: None, 'rgb_array'")
        self.size = size
        self.wall_density = wall_density
        self.slip_probability = slip_probability
        self.render_mode = render_mode
        self.walls = generate_walls(size, wall_density, maze_seed)
        self.start, self.goal = (0, 0), (size - 1, size - 1)
        self.optimal_path_length = shortest_path_length(self.walls, self.start, self.goal)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(8, 16), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(4)
        self.digits = digit_images()
        self.pos = self.start

    def _observe(self) -> np.ndarray:
        row, col = self.pos
        rows, cols = self.digits[row], self.digits[col]
        left = rows[self.np_random.integers(len(rows))]
        right = cols[self.np_random.integers(len(cols))]
        return np.concatenate([left, right], axis=1)  # [8, 16]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos = self.start
        return self._observe(), {"position": self.pos,
                                 "optimal_path_length": self.optimal_path_length}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"DigitMaze: action {action!r} is not in {{0, 1, 2, 3}}")
        if self.slip_probability and self.np_random.random() < self.slip_probability:
            action = int(self.np_random.integers(4))
        nr, nc = self.pos[0] + MOVES[action][0], self.pos[1] + MOVES[action][1]
        if 0 <= nr < self.size and 0 <= nc < self.size and not self.walls[nr, nc]:
            self.pos = (int(nr), int(nc))
        at_goal = self.pos == self.goal
        return self._observe(), float(at_goal), at_goal, False, {"position": self.pos}

    def render(self) -> np.ndarray | None:
        """An RGB picture of the grid: walls dark, goal green, agent red (8 px per cell)."""
        if self.render_mode != "rgb_array":
            return None
        img = np.full((self.size, self.size, 3), 230, dtype=np.uint8)
        img[self.walls] = (40, 40, 40)
        img[self.goal] = (40, 170, 60)
        img[self.pos] = (210, 40, 40)
        return np.kron(img, np.ones((8, 8, 1), dtype=np.uint8))


def register() -> None:
    """Register ``relayrl/DigitMaze-v0`` with gymnasium (idempotent)."""
    if ENV_ID not in gym.registry:
        gym.register(ENV_ID, entry_point="relayrl.envs.digit_maze:DigitMazeEnv",
                     max_episode_steps=MAX_EPISODE_STEPS)


register()
