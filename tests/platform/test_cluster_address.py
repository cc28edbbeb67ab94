"""``--address`` joins an existing Ray cluster instead of starting a local one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(400)
def test_train_joins_a_running_cluster(tmp_path):
    port = _free_port()
    ray_bin = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [str(ray_bin), "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        address = f"127.0.0.1:{port}"
        deadline = time.time() + 120
        while time.time() < deadline:  # wait for the head's GCS to listen
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        out = subprocess.run(
            [sys.executable, "-m", "relayrl.platform.cli", "train",
             str(ROOT / "tune_configs" / "quickstart.yaml"), "--address", address,
             "--logdir", str(tmp_path / "runs"), "--set", "stop.iterations=1",
             "--set", "run.iteration_env_steps=500", "--set", "learner.learning_starts=200"],
            capture_output=True, text=True, timeout=300,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        assert "Connecting to existing Ray cluster" in out.stderr, out.stderr[-2000:]
        assert "done after" in out.stdout
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait(timeout=60)
        # `ray start` leaves its address behind for plain ray.init() calls; take it back.
        current = Path("/tmp/ray/ray_current_cluster")
        if current.is_file() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()
