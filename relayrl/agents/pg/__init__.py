"""Vanilla policy gradient with a learned value baseline and GAE (A2C-style, synchronous).

The on-policy reference learner of the platform: rollout workers write fixed-length
sequences into a queue table; the learner takes each policy version's batch once.
"""
