"""DQN (Mnih et al. 2015) with double-Q and n-step options, and Episodic Backward Update."""
