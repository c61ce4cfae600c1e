"""Network commands of the ``cnnanim`` CLI: predict, train, weights import/info."""

from __future__ import annotations

import json
import os
import sys
import time

import click

from cnnanim.cli.app import CnnanimGroup, main
from cnnanim.cli.options import weights_option


@main.command()
@click.argument("image", required=False, type=click.Path())
@weights_option
@click.option("--top", "-k", default=3, show_default=True, type=click.IntRange(1, None),
              help="How many classes to list.")
@click.option("--json", "as_json", is_flag=True, help="Print logits, probabilities and class names as JSON.")
def predict(image: str | None, weights: str | None, top: int, as_json: bool) -> None:
    """Classify IMAGE (default: the bundled sample photo) with TinyVGG.

    \b
    Example:
      cnnanim predict photo.jpg --top 5
    """
    from cnnanim.network.trace import trace_image

    t = trace_image(image, weights)
    if as_json:
        click.echo(json.dumps({"class_names": t.class_names,
                               "logits": [float(v) for v in t.logits],
                               "probabilities": [float(v) for v in t.probabilities],
                               "predicted": t.predicted_class}, indent=2))
        return
    for name, p in t.top(min(top, len(t.class_names))):
        click.echo(f"{p:8.2%}  {name}")


def _epoch_bar():
    """An ``on_step`` callback for :func:`cnnanim.network.train.train`: one progress bar per
    epoch with the running loss and accuracy (on a log: one line at the end of each epoch)."""
    from cnnanim.output.progress import Progress

    bar = Progress()
    interactive = sys.stderr.isatty()

    def on_step(epoch: int, epochs: int, step: int, steps: int, loss: float, acc: float) -> None:
        if step == 1:
            bar.total, bar.t0 = steps, time.perf_counter()
        if step == steps or interactive:
            bar(step, f"epoch {epoch}/{epochs}  loss {loss:.4f}  acc {acc:.2%}")

    return on_step


@main.command("train")
@click.option("--data", "-d", type=click.Path(), default=None,
              help="Your images: a folder with one sub-folder per class (an optional val/ "
                   "holds the held-out images), or an .npz with x_train, y_train (optionally "
                   "x_test, y_test, class_names). Default: the preset's shared dataset.")
@click.option("--preset", "-p", type=click.Choice(["explainer", "seed"]), default="explainer",
              show_default=True,
              help="Architecture and recipe. explainer: 64x64 RGB, no padding (Tiny ImageNet "
                   "without --data); seed: 28x28 greyscale, padding 1 (MNIST without --data).")
@click.option("--hidden-units", type=click.IntRange(1, 64), default=None,
              help="Filters per conv layer (default: the preset's 10).")
@click.option("--image-size", type=click.IntRange(16, 128), default=None,
              help="Input width and height in pixels (default: the preset's, 64 or 28).")
@click.option("--val-split", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="With --data: hold out this random fraction (seeded) as the "
                                 "test split.")
@click.option("--epochs", "-e", type=click.IntRange(1, None), default=None,
              help="Passes over the training set (default: the preset's recipe, 30 or 4).")
@click.option("--seed", "-s", type=int, default=0, show_default=True,
              help="Random seed; the same seed gives the same weights.")
@click.option("--batch-size", "-b", type=click.IntRange(1, None), default=None,
              help="Images per step (default: 64 explainer, 128 seed).")
@click.option("--lr", type=click.FloatRange(0, None, min_open=True), default=None,
              help="Peak AdamW learning rate (default: 0.003).")
@click.option("--limit", type=click.IntRange(1, None), default=None,
              help="Use only this many training (and test) images, for a quick check.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None,
              help="Weights file to write (default: weights/PRESET.safetensors; with --data, "
                   "DATA-NAME.safetensors here).")
def train_command(data: str | None, preset: str, hidden_units: int | None,
                  image_size: int | None, val_split: float | None, epochs: int | None, seed: int,
                  batch_size: int | None, lr: float | None, limit: int | None,
                  out: str | None) -> None:
    """Train TinyVGG on your image folder or .npz (--data), or on the preset's dataset in
    ../shared, and write safetensors weights with the class names and this command.

    A progress bar per epoch shows the loss and accuracy; after every epoch a line gives the
    train and held-out accuracy.

    \b
    Example:
      cnnanim train --data my_photos/ --preset seed --val-split 0.2 --epochs 10 -o mine.safetensors
      cnnanim train --preset seed --epochs 4 -o weights/seed.safetensors
    """
    from pathlib import Path

    from cnnanim.network.train import train

    if out is None:
        out = (f"{Path(data).stem or 'model'}.safetensors" if data is not None
               else os.path.join("weights", f"{preset}.safetensors"))
    train(preset, epochs=epochs, seed=seed, batch_size=batch_size, lr=lr, out=out, limit=limit,
          log=click.echo, data=data, hidden_units=hidden_units, image_size=image_size,
          val_split=val_split, on_step=_epoch_bar())


@main.group("weights", cls=CnnanimGroup)
def weights_group() -> None:
    """Import and inspect weights files (.safetensors with cnnanim metadata).

    \b
    Example:
      cnnanim weights info weights/explainer.safetensors
    """


@weights_group.command("import-tfjs")
@click.argument("model_json", type=click.Path())
@click.option("--out", "-o", type=click.Path(dir_okay=False), required=True,
              help="The .safetensors file to write.")
def import_tfjs_command(model_json: str, out: str) -> None:
    """Convert CNN Explainer's TF.js MODEL_JSON (and its .bin shard) to safetensors.

    \b
    Example:
      cnnanim weights import-tfjs ../shared/cnn-explainer/model.json -o cnn-explainer.safetensors
    """
    from cnnanim.network.tfjs import import_tfjs

    click.echo(f"wrote {import_tfjs(model_json, out)}")


@weights_group.command("import-torch")
@click.argument("file", type=click.Path())
@click.option("--out", "-o", type=click.Path(dir_okay=False), required=True,
              help="The .safetensors file to write.")
@click.option("--classes", default=None,
              help="Class names in output order, comma-separated (default: 0, 1, ..., N-1).")
@click.option("--classes-file", type=click.Path(), default=None,
              help="A text file with one class name per line, in output order.")
@click.option("--image-size", type=click.IntRange(1, None), default=None,
              help="Input width and height (default: inferred from the classifier's width, "
                   "e.g. 28 for hidden x 7 x 7).")
@click.option("--padding", type=click.IntRange(0, None), default=None,
              help="Conv padding (a state_dict does not store it; default: 1 for kernel 3, as "
                   "the seed's CNNModel; 0 for CNN Explainer's layer names).")
def import_torch_command(file: str, out: str, classes: str | None, classes_file: str | None,
                         image_size: int | None, padding: int | None) -> None:
    """Convert a PyTorch state_dict of the seed's CNNModel (FILE, a .pth) to safetensors.

    Save it with torch.save(model.state_dict(), "model.pth"). The file is read with
    torch.load(weights_only=True), so nothing in it ever runs; a whole pickled model is refused.
    Input channels, hidden units, classes and kernel size come from the tensor shapes, the
    input size from the classifier's width.

    \b
    Example:
      cnnanim weights import-torch model.pth -o fashion.safetensors \\
          --classes "T-shirt,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot"
    """
    from cnnanim.network.torch_import import import_torch

    path = import_torch(file, out, classes=classes, classes_file=classes_file,
                        image_size=image_size, padding=padding)
    click.echo(f"wrote {path}")


@weights_group.command("info")
@click.argument("file", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the metadata as JSON.")
def weights_info_command(file: str, as_json: bool) -> None:
    """Print the metadata of a weights FILE (preset, classes, source, accuracy...).

    \b
    Example:
      cnnanim weights info weights/seed.safetensors
    """
    from cnnanim.network.train import describe_weights

    d = describe_weights(file)
    if as_json:
        click.echo(json.dumps(d, indent=2))
        return
    for key, value in d.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for k, v in value.items():
                click.echo(f"  {k}: {v if isinstance(v, str) else json.dumps(v)}")
        else:
            click.echo(f"{key}: {value if isinstance(value, str) else json.dumps(value)}")
