"""Compact image storage: each frame stored once in a ring, stacks rebuilt at sample time.

Items of a table with a FrameStackField hold *frame sequence numbers* (``[stack]`` per step)
instead of pixels. Frame ``q`` lives in slot ``q % capacity`` until ``capacity`` newer frames
have been written. The ring never lets an item outlive its frames: for every slot it records
the newest item that references it, and before a slot is overwritten the table evicts (FIFO)
every item up to that one. So validity is settled at insert time and a sample only gathers.

Writers send self-contained chunks (each chunk carries every frame its items use), so a
stack that continues from one chunk into the next arrives twice. The ring removes such
repeats by content: a frame whose bytes equal one written in the last ``window`` frames is
not stored again, and the item points at the earlier copy. Identical bytes are the same
frame, so this cannot mix data across episodes; it only saves memory. The window is a small
fraction of the ring so a reused frame is never close to being overwritten.
"""

from __future__ import annotations

import numpy as np

from relayrl.platform.replay.errors import ReplayError


class FrameRing:
    def __init__(self, capacity: int, frame_shape: tuple[int, ...], dtype: str):
        self.capacity = int(capacity)
        self.frame_shape = tuple(frame_shape)
        self.dtype = np.dtype(dtype)
        self.frames = np.zeros((self.capacity, *self.frame_shape), dtype=self.dtype)
        # Newest item sequence number that references the frame in each slot (-1: none).
        self.last_item = np.full(self.capacity, -1, dtype=np.int64)
        self.written = 0  # frames ever written == sequence number of the next frame
        self.window = max(0, min(self.capacity // 32, 1 << 16))
        self._recent: dict[int, int] = {}  # content hash -> newest seq with that content
        self._recent_hash = np.zeros(max(self.window, 1), dtype=np.int64)

    @property
    def nbytes(self) -> int:
        return int(self.frames.nbytes + self.last_item.nbytes + self._recent_hash.nbytes)

    @property
    def oldest_alive(self) -> int:
        return max(0, self.written - self.capacity)

    def plan(self, chunk: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """Sequence number for each chunk frame, and the chunk rows that must be stored.

        Registers the new frames in the de-duplication index; ``write`` must follow.
        """
        n = len(chunk)
        if n > self.capacity - self.window:
            raise ReplayError(
                f"an insert carries {n} frames but the frame ring holds {self.capacity} "
                f"(with a de-duplication window of {self.window}); send smaller chunks or raise "
                f"FrameStackField.frame_capacity")
        seqs = np.empty(n, dtype=np.int64)
        new_rows: list[int] = []
        pending: dict[int, int] = {}  # seq -> chunk row, for repeats inside this chunk
        for row in range(n):
            frame = chunk[row]
            h = hash(frame.tobytes())
            seq = self._recent.get(h, -1) if self.window else -1
            if seq >= 0 and self.written + len(new_rows) - seq <= self.window:
                same = chunk[pending[seq]] if seq in pending else self.frames[seq % self.capacity]
                if np.array_equal(same, frame):
                    seqs[row] = seq
                    continue
            seq = self.written + len(new_rows)
            seqs[row] = seq
            pending[seq] = row
            new_rows.append(row)
            self._remember(h, seq)
        return seqs, new_rows

    def _remember(self, h: int, seq: int) -> None:
        if not self.window:
            return
        pos = seq % self.window
        old_seq = seq - self.window
        if old_seq >= 0:
            old_h = int(self._recent_hash[pos])
            if self._recent.get(old_h) == old_seq:
                del self._recent[old_h]
        self._recent_hash[pos] = h
        self._recent[h] = seq

    def items_to_evict(self, num_new: int) -> int:
        """Newest item sequence number that references a frame the next write overwrites."""
        over = self.written + num_new - self.capacity  # frames with seq < over get overwritten
        lo = self.written - self.capacity
        if over <= max(lo, 0):
            return -1
        slots = np.arange(max(lo, 0), over) % self.capacity
        return int(self.last_item[slots].max(initial=-1))

    def write(self, frames: np.ndarray) -> None:
        n = len(frames)
        slots = np.arange(self.written, self.written + n) % self.capacity
        self.frames[slots] = frames
        self.last_item[slots] = -1
        self.written += n

    def reference(self, frame_seqs: np.ndarray, item_seqs: np.ndarray) -> None:
        """Record that items ``item_seqs`` (``[B]``, increasing) use ``frame_seqs`` (``[B, ...]``)."""
        flat = frame_seqs.reshape(len(item_seqs), -1)
        owners = np.broadcast_to(item_seqs[:, None], flat.shape)
        # Fancy assignment keeps the last write per slot; items come in increasing order.
        self.last_item[flat.ravel() % self.capacity] = owners.ravel()

    def gather(self, frame_seqs: np.ndarray) -> np.ndarray:
        return self.frames[frame_seqs % self.capacity]

    # ---- checkpoint ------------------------------------------------------------------------

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        used = min(self.written, self.capacity)  # slots past `used` were never written
        return {"written": self.written}, {"frames": self.frames[:used],
                                           "frame_last_item": self.last_item[:used]}

    def load(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        self.written = int(meta["written"])
        used = min(self.written, self.capacity)
        self.frames[:used] = arrays["frames"]
        self.last_item[:] = -1
        self.last_item[:used] = arrays["frame_last_item"]
        # The de-duplication index is a function of the last `window` frames: rebuild it.
        self._recent.clear()
        for seq in range(max(0, self.written - self.window), self.written):
            self._remember(hash(self.frames[seq % self.capacity].tobytes()), seq)
