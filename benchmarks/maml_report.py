"""``maml_results.py report``: meta-test every run's last checkpoint, write maml.md and plots.

Runs are directories ``<family>_seed<k>`` made by ``maml_results.py train`` (``metrics.jsonl``
and ``checkpoint_*``). Per family the report averages over seeds and compares with the
paper's table (Finn et al. 2017). The throughput table comes from
``results/maml_throughput.json`` when ``maml_throughput.py`` wrote it.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

PAPER = {
    "relayrl/Navigation2D-v0": {"maml": [-40.41, -11.68, -3.33, -3.23],
                                "pretrained": [-40.81, -19.73, -11.72, -8.47],
                                "random init": [-82.66, -57.96, -53.84, -46.81], "oracle": -2.29},
    "relayrl/HalfCheetahVel-v0": {"maml": [-129.53, -78.57, -66.62, -60.78], "oracle": -54.47},
    "relayrl/HalfCheetahDir-v0": {"maml": [-50.69, 293.19, 313.48, 315.65], "oracle": 442.69},
    "relayrl/AntVel-v0": {"maml": [30.58, 96.74, 100.06, 101.41], "oracle": 107.89},
    "relayrl/AntDir-v0": {"maml": [8.66, 499.15, 500.68, 499.11], "oracle": 524.80},
}


def paper_target_checks(maml: list[float]) -> dict:
    """The issue's navigation targets: MAML's mean after 1 and 2 steps at least the paper's."""
    one, two = PAPER["relayrl/Navigation2D-v0"]["maml"][1:3]
    return {f"one_step_at_least_paper_{one}": maml[1] >= one,
            f"two_steps_at_least_paper_{two}": maml[2] >= two}


CURVE_TASKS = 20  # held-out tasks per checkpoint for the checkpoint curve


def checkpoint_curve(run: Path, ckpts: list[Path], compute: bool = True) -> list[dict]:
    """Pre- and post-adaptation return of every checkpoint on CURVE_TASKS held-out tasks.

    The run's own adaptation (its inner steps and step sizes) with the training batch, as a
    training iteration, but on tasks no run trains on; the pretrained policy's own (unadapted)
    return beside it. Cached per run in
    ``checkpoint_curve.json``, so a checkpoint is evaluated once.
    """
    import numpy as np

    from relayrl.agents.maml.evaluate import TEST_SEED_OFFSET, adaptation_curve, load_policies
    from relayrl.envs.meta import sample_tasks
    from relayrl.platform.experiment import read_checkpoint_marker

    cache = run / "checkpoint_curve.json"
    done = json.loads(cache.read_text()) if cache.exists() else {}
    for ck in ckpts:
        if ck.name in done or not compute:
            continue
        env_id, lc, policies = load_policies(ck)
        tasks = sample_tasks(env_id, CURVE_TASKS, np.random.default_rng(TEST_SEED_OFFSET + 7))
        row = {"iteration": read_checkpoint_marker(ck)["iteration"], "tasks": CURVE_TASKS,
               "maml": adaptation_curve(env_id, lc, policies["maml"], tasks, lc.num_inner_steps,
                                        seed=7, inner_lr=lc.inner_lrs)}
        if "pretrained" in policies:
            row["pretrained"] = adaptation_curve(env_id, lc, policies["pretrained"], tasks, 0, seed=7)
        done[ck.name] = row
        cache.write_text(json.dumps(done, indent=1))
    return sorted(done.values(), key=lambda r: r["iteration"])


def read_metrics(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def plot_training(family: str, runs: dict[str, list[dict]], out: Path,
                  held_out: dict[str, list[dict]] | None = None,
                  inner_steps: dict[str, int] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (name, rows) in enumerate(sorted(runs.items())):
        it = [r["iteration"] for r in rows]
        color = f"C{i}"
        n = (inner_steps or {}).get(name, 1)
        post = "post-adaptation" if n == 1 else f"after {n} inner steps"
        ax.plot(it, [r["learner/post_return"] for r in rows], color=color, label=f"{name} {post}")
        ax.plot(it, [r["learner/pre_return"] for r in rows], color=color, ls=":", label=f"{name} pre")
        if "pretrained/return" in rows[0]:
            ax.plot(it, [r["pretrained/return"] for r in rows], color=color, ls="--", alpha=0.5,
                    label=f"{name} pretrained (joint TRPO)")
        pts = (held_out or {}).get(name, [])
        if pts:
            it = [p["iteration"] for p in pts]
            ax.plot(it, [p["maml"][-1] for p in pts], color=color, marker="o", ls="none", ms=3,
                    label=f"{name} {post}, held-out tasks")
            ax.plot(it, [p["maml"][0] for p in pts], color=color, marker="x", ls="none", ms=3,
                    label=f"{name} pre, held-out tasks")
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("mean episode return (training tasks)")
    ax.set_title(f"MAML-TRPO on {family}")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_meta_test(family: str, mean: dict[str, list[float]], oracle: float | None, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    for name, curve in mean.items():
        ax.plot(range(len(curve)), curve, marker="o", label=name)
    if oracle is not None:
        ax.axhline(oracle, color="k", ls="--", label="oracle")
    paper = PAPER.get(family, {}).get("maml")
    if paper:
        ax.plot(range(4), paper, color="grey", ls=":", marker="x", label="MAML (paper)")
    ax.set_xlabel("adaptation steps at meta-test")
    ax.set_ylabel("mean return, 40 new tasks")
    ax.set_xticks(range(4))
    ax.set_title(family)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def fmt(xs: list[float]) -> str:
    if len(xs) == 1:
        return f"{xs[0]:.2f}"
    return f"{statistics.mean(xs):.2f} ± {statistics.stdev(xs):.2f}"


PAPER_GOALS_FILE = "benchmarks/results/maml_paper_navigation_goals.json"


def paper_goals_section(runs: dict[str, Path], env_id: str) -> tuple[list[str], dict]:
    """The family's meta-tests on the paper's own 40 goals (``metatest_paper_goals_*.json``).

    Grouped by meta-iteration; mean ± std over the seeds meta-tested at that iteration.
    """
    by_iter: dict[int, dict[str, dict]] = {}
    for name, run in runs.items():
        for f in run.glob("metatest_paper_goals_checkpoint_*.json"):
            it = int(f.stem.rsplit("_", 1)[1])
            by_iter.setdefault(it, {})[name] = json.loads(f.read_text())
    if not by_iter:
        return [], {}
    paper = PAPER[env_id]
    md = ["", f"On the paper's own 40 test goals (`relayrl eval-meta CKPT --tasks-file {PAPER_GOALS_FILE}`, "
              "written by `benchmarks/maml_paper_goals.py`; the fresh draw above is the protocol's), "
              "mean ± std over the seeds meta-tested at each iteration:", "",
          "| policy | meta-iterations | seeds | 0 steps | 1 step | 2 steps | 3 steps |",
          "|---|---|---|---|---|---|---|"]
    summary = {}
    for it in sorted(by_iter):
        res = by_iter[it]
        for n in ("maml", "pretrained"):
            rows = [r["returns"][n] for r in res.values() if n in r["returns"]]
            if rows:
                md.append(f"| {n} | {it} | {len(rows)} | "
                          + " | ".join(fmt([r[s] for r in rows]) for s in range(4)) + " |")
        maml = [statistics.mean(r["returns"]["maml"][s] for r in res.values()) for s in range(4)]
        summary[it] = {"runs": sorted(res), "maml": maml, **paper_target_checks(maml)}
    for n in ("maml", "pretrained"):
        md.append(f"| paper: {n} | | | " + " | ".join(f"{x:.2f}" for x in paper[n]) + " |")
    one, two = paper["maml"][1:3]
    md += ["", "Checks on these goals: " + "; ".join(
        f"{it} iterations ({len(v['runs'])} seeds): one step >= {one} **{v[f'one_step_at_least_paper_{one}']}**, "
        f"two steps >= {two} **{v[f'two_steps_at_least_paper_{two}']}**" for it, v in summary.items())]
    return md, summary


SELECTED_TESTS = {"protocol's tasks": "metatest_best_checkpoint.json",
                  "paper's goals": "metatest_paper_goals_best_checkpoint.json"}


def selected_model_section(runs: dict[str, Path]) -> tuple[list[str], dict]:
    """The paper's model selection: each run's ``best_checkpoint/`` (``run.keep_best``).

    Meta-tested by ``relayrl eval-meta RUN/best_checkpoint --out RUN/<SELECTED_TESTS file>``
    (with ``--tasks-file`` for the paper's goals); mean over the seeds that have each.
    """
    chosen: dict[str, tuple[dict, dict]] = {}
    for name, run in runs.items():
        info = run / "best_checkpoint" / "best.json"
        if info.is_file():
            tests = {k: json.loads((run / f).read_text()) for k, f in SELECTED_TESTS.items()
                     if (run / f).is_file()}
            chosen[name] = (json.loads(info.read_text()), tests)
    if not any(tests for _, tests in chosen.values()):
        return [], {}
    md = ["", "The paper's model selection (\"the model with the best average return during "
              "training\"): each run's `best_checkpoint/` (`run.keep_best`), the meta-iteration "
              "with the best post-adaptation return on its own training meta-batch, meta-tested; "
              "MAML (pretrained: the joint policy of the same iteration) after 0 / 1 / 2 / 3 steps:", "",
          "| run | selected iteration | its training return | task set | maml | pretrained |",
          "|---|---|---|---|---|---|"]
    summary: dict = {}
    for name, (rec, tests) in chosen.items():
        for k, res in tests.items():
            pre = res["returns"].get("pretrained")
            md.append(f"| {name} | {rec['iteration']} | {rec['episode_return_mean']:.2f} | {k} | "
                      + " / ".join(f"{x:.2f}" for x in res["returns"]["maml"]) + " | "
                      + (" / ".join(f"{x:.2f}" for x in pre) if pre else "") + " |")
    for k in SELECTED_TESTS:
        done = [tests[k] for _, tests in chosen.values() if k in tests]
        if not done:
            continue
        mean = {n: [statistics.mean(r["returns"][n][s] for r in done) for s in range(4)]
                for n in ("maml", "pretrained") if all(n in r["returns"] for r in done)}
        summary[k] = {"seeds": len(done), **mean, **paper_target_checks(mean["maml"])}
        if "pretrained" in mean:
            summary[k]["maml_beats_pretrained_at_every_step"] = all(
                a > b for a, b in zip(mean["maml"], mean["pretrained"]))
        md.append(f"| mean of {len(done)} | | | {k} | "
                  + " / ".join(f"{x:.2f}" for x in mean["maml"]) + " | "
                  + (" / ".join(f"{x:.2f}" for x in mean["pretrained"]) if "pretrained" in mean else "")
                  + " |")
    md += ["", "Checks on the selected models: " + "; ".join(
        f"{k}: " + ", ".join(f"{c} **{v}**" for c, v in sm.items() if isinstance(v, bool))
        for k, sm in summary.items())]
    return md, summary


def report(args) -> dict:
    from relayrl.agents.maml.evaluate import default_episodes_per_step, load_policies, meta_test
    from relayrl.platform.experiment import read_checkpoint_marker

    runs_dir = Path(args.runs)
    results_dir = Path(args.md).parent
    families: dict[str, dict[str, Path]] = {}
    for run in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        m = re.match(r"(.+)_seed(\d+)$", run.name)
        if m:
            families.setdefault(m.group(1), {})[run.name] = run
    out: dict = {"families": {}}
    md_notes: list[str] = []
    md = ["# MAML-TRPO results", "",
          "Produced by `benchmarks/maml_results.py` (training runs with the in-process task sampler; "
          "the same sampler code the Ray actors run) and `benchmarks/maml_throughput.py`. "
          f"Meta-test (`relayrl eval-meta`): {args.tasks} new tasks (seeded apart from training), the "
          "authors' meta-test batch of 4,000 env steps per task per step (40 navigation episodes, "
          "20 locomotion episodes); MAML's first step with the "
          "training inner step size alpha, later steps alpha / 2 (the authors' meta-test "
          "scripts); the baselines' first step size is the best of {0.5, 0.2, 0.1, 0.05, 0.02, "
          "0.01} on 40 separate validation tasks (halved likewise after the first step); "
          "mean over tasks and episodes, then mean ± std over seeds.", ""]
    for family, runs in families.items():
        curves, held_out, per_seed, env_id, inner_steps = {}, {}, {}, None, {}
        for name, run in runs.items():
            rows = read_metrics(run)
            ckpts = sorted(p for p in run.glob("checkpoint_*") if (p / "relayrl_checkpoint.json").exists())
            if rows and not ckpts:  # stopped before its first checkpoint: training numbers only
                md += [f"## {name} (training tasks only; stopped before its first checkpoint)", "",
                       "| meta-iteration | pre-adaptation return | post-adaptation return | "
                       "wall s | env steps |", "|---|---|---|---|---|"]
                md += [f"| {r['iteration']} | {r['learner/pre_return']:.2f} | "
                       f"{r['learner/post_return']:.2f} | {r['time_this_iter_s']:.0f} | "
                       f"{r['env_steps']:,} |" for r in rows]
                md.append("")
            if not rows or not ckpts:
                continue
            curves[name] = rows
            held_out[name] = checkpoint_curve(run, ckpts, compute=not args.cached_only)
            env_id, lc, policies = load_policies(ckpts[-1])
            inner_steps[name] = lc.num_inner_steps
            cache = run / f"metatest_{ckpts[-1].name}.json"  # `relayrl eval-meta CKPT --out` writes it
            cached = json.loads(cache.read_text()) if cache.exists() else {}
            if (cached.get("num_tasks") == args.tasks
                    and cached.get("episodes_per_step") == default_episodes_per_step(env_id)):
                res = cached
            elif args.cached_only:  # training curve only
                md_notes.append(f"{name}: no meta-test of {ckpts[-1].name} yet (--cached-only)")
                continue
            else:
                res = meta_test(env_id, lc, policies, num_tasks=args.tasks, seed=0)
                cache.write_text(json.dumps(res, indent=1))
            res["iterations"] = read_checkpoint_marker(ckpts[-1])["iteration"]  # the meta-tested one
            res["checkpoint"] = str(ckpts[-1])
            res["time_per_iteration_s"] = statistics.median(r["time_this_iter_s"] for r in rows)
            per_seed[name] = res
        if curves:
            plot_training(family, curves, results_dir / f"maml_{family}_training.png", held_out,
                          inner_steps)
        if not per_seed:
            continue
        names = list(next(iter(per_seed.values()))["returns"])
        mean = {n: [statistics.mean(r["returns"][n][s] for r in per_seed.values()) for s in range(4)]
                for n in names}
        oracles = [r["oracle"] for r in per_seed.values() if "oracle" in r]
        oracle = statistics.mean(oracles) if oracles else None
        plot_meta_test(env_id, mean, oracle, results_dir / f"maml_{family}_metatest.png")
        iters = sorted(r["iterations"] for r in per_seed.values())
        md += [f"## {env_id} (runs `{family}_seed*`)", "",
               f"{len(per_seed)} seed(s), meta-iterations reached: {iters}; median wall time per "
               f"meta-iteration {statistics.median(r['time_per_iteration_s'] for r in per_seed.values()):.1f} s "
               f"(in-process sampler, shared 2-core machine); "
               f"{next(iter(per_seed.values()))['episodes_per_step']} episodes per task per step. "
               f"Config: `{runs_dir}/{next(iter(per_seed))}/"
               f"{Path(next(iter(per_seed.values()))['checkpoint']).name}/config.yaml`.", "",
               "| policy | 0 steps | 1 step | 2 steps | 3 steps |", "|---|---|---|---|---|"]
        for n in names:
            md.append(f"| {n} | " + " | ".join(fmt([r["returns"][n][s] for r in per_seed.values()])
                                             for s in range(4)) + " |")
        if oracles:
            md.append(f"| oracle (optimal controller) | {fmt(oracles)} | | | |")
        paper = PAPER.get(env_id, {})
        for n in ("maml", "pretrained", "random init"):
            if n in paper:
                md.append(f"| paper: {n} | " + " | ".join(f"{x:.2f}" for x in paper[n]) + " |")
        if "oracle" in paper:
            md.append(f"| paper: oracle | {paper['oracle']:.2f} | | | |")
        checks = {}
        if "pretrained" in mean:
            checks["maml_beats_pretrained_at_every_step"] = all(
                a > b for a, b in zip(mean["maml"], mean["pretrained"]))
        checks["adapted_above_unadapted"] = mean["maml"][1] > mean["maml"][0]
        if env_id == "relayrl/Navigation2D-v0":
            checks.update(paper_target_checks(mean["maml"]))
        if len(per_seed) > 1:  # the spread behind the means: one row per seed
            md += ["", "Per seed (MAML after 0 / 1 / 2 / 3 steps" +
                   (", pretrained after 0 / 1 steps" if "pretrained" in mean else "") + "):", "",
                   "| run | meta-iterations | maml | pretrained |", "|---|---|---|---|"]
            for name, r in per_seed.items():
                pre = r["returns"].get("pretrained")
                md.append(f"| {name} | {r['iterations']} | "
                          + " / ".join(f"{x:.2f}" for x in r["returns"]["maml"]) + " | "
                          + (" / ".join(f"{x:.2f}" for x in pre[:2]) if pre else "") + " |")
        md += ["", "Checks: " + ", ".join(f"{k} = **{v}**" for k, v in checks.items())]
        goals_md, goals = paper_goals_section(runs, env_id) if env_id == "relayrl/Navigation2D-v0" else ([], {})
        md += goals_md
        selected_md, selected = selected_model_section(runs)
        md += selected_md
        md += ["", f"![training](maml_{family}_training.png) ![meta-test](maml_{family}_metatest.png)", ""]
        out["families"][family] = {"env_id": env_id, "per_seed": per_seed, "mean": mean, "oracle": oracle,
                                   "checks": checks, "paper_goals": goals, "selected_model": selected}
    if md_notes:
        md += ["Runs without a meta-test: " + "; ".join(md_notes) + ".", ""]
    throughput = []
    for tp in sorted(results_dir.glob("maml_throughput*.json")):
        data = json.loads(tp.read_text())
        rows = data["rows"]
        env_id = rows[0].get("env_id", "relayrl/Navigation2D-v0")
        batch = (f"{rows[0]['meta_batch_size']} tasks x {rows[0]['trajectories_per_task']}"
                 if "meta_batch_size" in rows[0] else "20 tasks x 20")
        # files written before the script recorded its command: the one that made them
        command = data.get("command", "python benchmarks/maml_throughput.py --workers 1 2 4 "
                                      "--iterations 3 --full-iterations 2")
        md += [f"## Distributed sampling throughput: {env_id}", "",
               f"`{command} > benchmarks/results/{tp.name}` — a `ray.cluster_utils.Cluster` "
               "with one 1-CPU Ray node per sampler actor; a meta-batch of "
               f"{batch} episodes before and after the local inner step; machine cores: "
               f"{data['cpu_count']}.", "",
               "| workers | nodes used | median s / meta-batch | meta-batches / s | env steps / s | speedup |",
               "|---|---|---|---|---|---|"]
        for r in rows:
            md.append(f"| {r['workers']} | {r['nodes_used']} | {r['median_sample_s']:.2f} | "
                      f"{r['meta_batches_per_s']:.3f} | {r['env_steps_per_s']:,.0f} | "
                      f"{r['speedup_vs_first']:.2f}x |")
        two = [r for r in rows if r["workers"] == 2 and r["median_meta_iteration_s"]]
        if two:
            md += ["", f"Full meta-iteration with 2 workers (sampling + second-order TRPO "
                       f"meta-update in the driver): median {two[0]['median_meta_iteration_s']:.1f} s "
                       f"over {len(two[0]['meta_iteration_s'])} iterations."]
        md.append("")
        throughput.append(data)
    if throughput:
        out["throughput"] = throughput
    notes = results_dir / "maml_notes.md"  # hand-written: commands run, status, deviations
    if notes.exists():
        md += ["", notes.read_text().rstrip()]
    Path(args.md).write_text("\n".join(md) + "\n")
    (results_dir / "maml_results.json").write_text(json.dumps(out, indent=1, default=str))
    return {"md": args.md, "families": {k: v["checks"] for k, v in out["families"].items()}}
