"""The GATES dashboard: a TensorBoard plugin (``lstm_gates``) where every gate, step and run is read together.

``metadata`` names what is logged (shared by both sides), ``summary`` writes it
from a snapshot (in the drawing process), ``plugin`` serves it to TensorBoard,
``static/`` is the page, ``launcher`` starts TensorBoard with the flags it needs.
"""
