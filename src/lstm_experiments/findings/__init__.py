"""Findings: what is wrong with an LSTM, where, and since when.

``figures`` measures, per logged step, what the rules read (gradient through
time, per-unit saturation, dead and redundant units, the probe's input range,
non-finite weights) from a snapshot, in the drawing process; ``rules`` turns
those figures and the epoch metrics into findings against ``thresholds``;
``record`` keeps each finding's first and last step and writes them
(``findings.json``, the Text record and the per-kind counts).
"""
