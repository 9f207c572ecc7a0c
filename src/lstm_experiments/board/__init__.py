"""The GATES dashboard: a TensorBoard plugin (``lstm_gates``) where every gate, step and run is read together.

``metadata`` names what is logged and parses it back (shared by both sides);
``summary`` writes it from a snapshot (in the drawing process, a writer of its
own beside the visualizers: ``viz.board``). The serving side: ``plugin`` (one
handler per route), ``reader`` (what TensorBoard's data provider holds, typed),
``run_index`` and ``run_titles`` (the ``/runs`` answer), ``sampling`` (which
steps TensorBoard keeps), ``series_cache``, ``http_answers`` (one-line errors,
JSON, the static allow-list); ``static/`` is the page; ``launcher`` starts
TensorBoard with the flags it needs.
"""
