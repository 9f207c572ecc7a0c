# Makes conf/ importable as lstm_experiments.conf, so Hydra can load it with
# pkg://lstm_experiments.conf from an editable install and from a wheel.
