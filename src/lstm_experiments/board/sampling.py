"""How many steps TensorBoard keeps of each GATES series, and how many a run logged.

TensorBoard keeps a reservoir sample of every series (tag): at most a number of
data per tag, the latest always among them, every datum while fewer were
logged. The number is ``--samples_per_plugin``'s for this plugin when given,
else TensorBoard's default for tensors, which depends on how it loads the
logdir: 100 with its data server (``--load_fast``, plain ``tensorboard``'s
choice where the server is installed), 10 with ``--load_fast=false``.
``tests/test_tensorboard_http.py`` checks these numbers against a real
TensorBoard. Its data provider lists a series' last step but not how many data
were logged, so a full reservoir cannot say how many were dropped.
"""

from tensorboard.backend.event_processing import data_ingester, tag_types

# How many data a read asks for: all that TensorBoard kept (it keeps what
# --samples_per_plugin says; asking for fewer would drop steps a second time).
READ_ALL = 1_000_000
# TensorBoard's data server (rustboard) keeps this many data per tensor series unless told.
DATA_SERVER_TENSORS = 100
# The Python loader (--load_fast=false) keeps this many of a plugin it has no number for.
MULTIPLEXER_TENSORS = data_ingester.DEFAULT_SIZE_GUIDANCE[tag_types.TENSORS]


def kept_per_tag(context, plugin_name: str) -> int | None:
    """How many data of each of ``plugin_name``'s series TensorBoard keeps (None: all of them).

    ``context`` is the ``TBContext``: its sampling hints are ``--samples_per_plugin``, and its
    multiplexer is set only where TensorBoard loads the logdir in Python, not with the data server.
    """
    python_loader = getattr(context, "multiplexer", None) is not None
    hint = (getattr(context, "sampling_hints", None) or {}).get(plugin_name)
    if hint is None:
        return MULTIPLEXER_TENSORS if python_loader else DATA_SERVER_TENSORS
    # The Python reservoir reads 0 as "no limit"; the data server keeps none.
    return None if python_loader and int(hint) == 0 else int(hint)


def read_size(context, plugin_name: str) -> int:
    """The ``downsample`` of a read that returns every datum TensorBoard kept."""
    hint = (getattr(context, "sampling_hints", None) or {}).get(plugin_name)
    return max(int(hint or 0), READ_ALL)


def logged_step_count(steps, max_step: int, log_every: int, kept: int | None) -> int | None:
    """How many steps a run logged, counted from the ``steps`` TensorBoard kept; None when unknown.

    Fewer kept than the reservoir holds (``kept``, None: no limit) means nothing was dropped.
    A full reservoir is complete only if it holds exactly the steps the writer's rule names
    (0, ``log_every``, 2 ``log_every``, ... and ``max_step``); any other full reservoir may hide
    dropped steps (a resumed run also logs the last step of each part), so the count is not claimed.
    """
    steps = set(steps)
    if kept is None or len(steps) < kept:
        return len(steps)
    every = max(1, int(log_every))
    on_rule = max_step // every + 1 + (0 if max_step % every == 0 else 1)
    if len(steps) == on_rule and all(0 <= step <= max_step and (step % every == 0 or step == max_step)
                                     for step in steps):
        return len(steps)
    return None
