"""What the gates of a recurrent layer do, computed in numpy from a snapshot's weights.

- ``layout``: Keras' gate order and the column slices of each gate's block in the fused
  kernel, recurrent kernel and bias; the only module that knows them.
- ``activity``: the replay of Keras' LSTM and GRU cell equations on a probe batch
  (every gate's values and the hidden states).
- ``gradients``: backpropagation through time of the probe batch's loss, from that replay,
  and the gradient's norm at each time step.
- ``units``: per-unit figures of that replay (saturation, dead and redundant units, orders).
- ``statistics``: statistics of one gate's weight block (norms, spectral norm, ...).

Nothing is imported here, so importing one part loads only what it needs.
"""
