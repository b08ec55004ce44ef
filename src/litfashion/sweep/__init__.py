"""``litfashion sweep``: hyperparameter search with Optuna, each trial a real ``litfashion fit``."""
