"""MAML for RL (Finn, Abbeel, Levine 2017) with a TRPO meta-update, across a Ray cluster.

- :mod:`~relayrl.agents.maml.trpo`: TRPO as a reusable update (conjugate gradient,
  Hessian-vector products, KL-constrained backtracking line search).
- :mod:`~relayrl.agents.maml.learner`: the meta-learner (first- and second-order) and the
  joint "pretrained" learner; :mod:`~relayrl.agents.maml.losses` their objectives.
- :mod:`~relayrl.agents.maml.sampler` / :mod:`~relayrl.agents.maml.distributed`: task
  samplers that adapt where the data is, spread over Ray actors, via replay queue tables.
- :mod:`~relayrl.agents.maml.evaluate`: the meta-test (``relayrl eval-meta``).
"""
