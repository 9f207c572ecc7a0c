"""bytes: event-file bytes per logged step per recurrent layer, by units and visualizer set, split by
TensorBoard plugin (images are capped at viz.image.max_side_px). The default visualizers are measured
with the GATES tab's data (``viz.board``, the default) and without it, what the images alone cost."""

from __future__ import annotations

from pathlib import Path

from bench.common import FEATURES, VIZ_VARIANTS, compose_config, model_overrides, print_table, run_ours


def event_breakdown(event_dir: Path) -> dict:
    """Serialized bytes per plugin and the largest image (width x height) in one run's event files."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event

    plugin_of: dict[str, str] = {}
    by_plugin: dict[str, int] = {}
    largest = (0, 0)
    for path in sorted(Path(event_dir).glob("events.out.tfevents.*")):
        for record in RawEventFileLoader(str(path)).Load():
            event = Event.FromString(record)
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name or plugin_of.get(value.tag, "other")
                plugin_of.setdefault(value.tag, plugin)
                by_plugin[plugin] = by_plugin.get(plugin, 0) + value.ByteSize()
                if plugin == "images" and len(value.tensor.string_val) >= 2:
                    width, height = (int(v) for v in value.tensor.string_val[:2])
                    largest = max(largest, (width, height), key=lambda wh: wh[0] * wh[1])
    return {"by_plugin": by_plugin, "largest_image": f"{largest[0]}x{largest[1]}"}


def run(sizes, workdir: Path) -> dict:
    """Event-file bytes per logged step per recurrent layer, for each units value."""
    rows = []
    variants = {"default": [VIZ_VARIANTS["default"]], "default, viz.board=false": [VIZ_VARIANTS["default"],
                                                                                   "viz.board=false"],
                "all": [VIZ_VARIANTS["all"]]}
    for units in sizes.bytes_units:
        for variant, viz in variants.items():
            overrides = [*model_overrides(units, sizes.bytes_epochs, sizes.bytes_samples), *viz]
            layers = compose_config(overrides).model.layers
            result = run_ours(overrides, workdir)
            breakdown = event_breakdown(Path(result.event_dir))
            per_step_layer = result.event_bytes / result.logged_steps / layers
            weight_bytes = 4 * (4 * units * (FEATURES + units) + 4 * units)  # float32 kernel, recurrent, bias
            rows.append({
                "units": units, "viz": variant, "logged_steps": result.logged_steps,
                "kb_per_step_layer": per_step_layer / 1024,
                "image_kb": breakdown["by_plugin"].get("images", 0) / result.logged_steps / layers / 1024,
                "hist_kb": breakdown["by_plugin"].get("histograms", 0) / result.logged_steps / layers / 1024,
                "scalar_kb": breakdown["by_plugin"].get("scalars", 0) / result.logged_steps / layers / 1024,
                "gates_tab_kb": breakdown["by_plugin"].get("lstm_gates", 0) / result.logged_steps / layers / 1024,
                "largest_image": breakdown["largest_image"],
                "weights_kb": weight_bytes / 1024,
                "bytes_per_weight_byte": per_step_layer / weight_bytes,
            })
    print_table(
        "bytes: event-file bytes per logged step per layer",
        ["units", "viz", "logged_steps", "kb_per_step_layer", "image_kb", "hist_kb", "scalar_kb", "gates_tab_kb",
         "largest_image", "weights_kb", "bytes_per_weight_byte"],
        rows,
        ["weights_kb: the layer's float32 weights; images are reduced to viz.image.max_side_px"],
    )
    return {"rows": rows}
