"""Learners, one sub-package per family."""
