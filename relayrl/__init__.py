"""relayrl: distributed reinforcement-learning experiments on Ray.

Three parts live under one import package (see the design notes): ``relayrl.platform``
(the distributed runtime), ``relayrl.envs`` (environments) and ``relayrl.agents``
(learners).
"""

__version__ = "0.1.0"
