"""The ``relayrl`` command: ``train``, ``tune``, ``eval``, ``eval-meta``, ``bench``.

Bad input (unknown key, wrong type, unknown env, impossible resources, a broken checkpoint)
exits with status 2 and one line naming what was wrong, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from relayrl.platform.config import ConfigError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="relayrl", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value, e.g. learner.lr=3e-4")
        sp.add_argument("--address", default=None,
                        help="join an existing Ray cluster ('auto' or host:port)")

    t = sub.add_parser("train", help="run one experiment from a YAML config")
    t.add_argument("config")
    t.add_argument("--logdir", default=None, help="parent directory of the run (default run.logdir)")
    t.add_argument("--restore", default=None, metavar="CHECKPOINT",
                   help="continue from a checkpoint directory")
    t.add_argument("--quiet", action="store_true", help="no per-iteration progress lines")
    common(t)

    s = sub.add_parser("tune", help="run a Ray Tune sweep from a YAML config's tune: section")
    s.add_argument("config")
    s.add_argument("--resume", action="store_true", help="continue an interrupted sweep")
    common(s)

    e = sub.add_parser("eval", help="run a trained policy greedily and print its returns")
    e.add_argument("checkpoint")
    e.add_argument("--episodes", type=int, default=10)
    e.add_argument("--num-envs", type=int, default=None)
    e.add_argument("--seed", type=int, default=12345)

    m = sub.add_parser("eval-meta", help="MAML meta-test: returns after 0..3 adaptation steps")
    m.add_argument("checkpoint")
    m.add_argument("--tasks", type=int, default=40)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--out", default=None, help="also write the JSON result here")
    m.add_argument("--inner-lr", type=float, default=None,
                   help="step size of the first adaptation step (default: the run's inner_lr)")
    m.add_argument("--later-lr-scale", type=float, default=0.5,
                   help="later steps use this x the first step's size (0.5: the paper's code)")
    m.add_argument("--episodes-per-step", type=int, default=None,
                   help="episodes per task per adaptation step (default: 4,000 env steps' worth, "
                        "the paper's meta-test batch)")
    m.add_argument("--tasks-file", default=None,
                   help="JSON list of test tasks, e.g. [{\"goal\": [0.1, -0.2]}, ...], in place of "
                        "--tasks fresh ones")

    b = sub.add_parser("bench", help="run a benchmark script from benchmarks/ (JSON out)")
    b.add_argument("name", help="e.g. rollout_throughput, replay_throughput")
    b.add_argument("args", nargs=argparse.REMAINDER)
    return p


def _bench(name: str, args: list[str]) -> int:
    root = Path(__file__).resolve().parents[2] / "benchmarks"
    script = root / f"{name}.py"
    if not script.is_file():
        known = sorted(f.stem for f in root.glob("*.py")) if root.is_dir() else []
        raise ConfigError(f"bench: unknown benchmark {name!r}; known: {', '.join(known) or 'none'}"
                          " (benchmarks live in the source checkout)")
    return subprocess.call([sys.executable, str(script), *args])


def use_cluster_token(address: str | None) -> None:
    """A cluster started with ``ray start`` uses token authentication, and a driver sends the
    token only when RAY_AUTH_MODE says so; Ray reads that setting when it is first imported,
    so this runs before anything imports ray."""
    has_token = (os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                 or Path("~/.ray/auth_token").expanduser().is_file())
    if address and has_token and "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    use_cluster_token(getattr(args, "address", None))
    try:
        return _dispatch(args)
    except ConfigError as e:
        print(f"relayrl: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("relayrl: interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "train":
        from relayrl.platform.config import load_experiment
        from relayrl.platform.runner import check_resources, init_ray, local_resources, train

        cfg = load_experiment(args.config, args.overrides)
        if not args.address:
            check_resources(cfg, local_resources())  # fail before starting Ray
        init_ray(args.address)
        train(cfg, logdir=args.logdir, restore=args.restore,
              progress=False if args.quiet else None)
        return 0
    if args.command == "tune":
        # Validate before starting Ray, so a bad file fails fast.
        from relayrl.platform.config import apply_overrides, experiment_from_dict, load_yaml
        from relayrl.platform.runner import init_ray
        from relayrl.platform.sweep import run_sweep, trial_config

        experiment_from_dict(trial_config(apply_overrides(load_yaml(args.config),
                                                          args.overrides), {}), args.config)
        init_ray(args.address)
        run_sweep(args.config, args.overrides, resume=args.resume)
        return 0
    if args.command == "eval":
        from relayrl.platform.evaluate import evaluate_checkpoint

        result = evaluate_checkpoint(args.checkpoint, episodes=args.episodes,
                                     num_envs=args.num_envs, seed=args.seed)
        print(json.dumps(result))
        return 0
    if args.command == "eval-meta":
        try:
            from relayrl.agents.maml.evaluate import eval_meta_main
        except ImportError as e:
            raise ConfigError(f"eval-meta: the MAML package is not available ({e})") from None
        return eval_meta_main(args.checkpoint, num_tasks=args.tasks, seed=args.seed, out=args.out,
                              inner_lr=args.inner_lr, later_lr_scale=args.later_lr_scale,
                              episodes_per_step=args.episodes_per_step,
                              tasks_file=args.tasks_file)
    if args.command == "bench":
        return _bench(args.name, args.args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    sys.exit(main())
