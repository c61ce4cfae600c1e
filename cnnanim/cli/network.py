"""Network commands of the ``cnnanim`` CLI: predict, train, weights import/info."""

from __future__ import annotations

import json
import os

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


@main.command("train")
@click.option("--preset", "-p", type=click.Choice(["explainer", "seed"]), default="explainer",
              show_default=True, help="explainer: Tiny ImageNet 10 classes at 64x64; seed: MNIST.")
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
              help="Weights file to write (default: weights/PRESET.safetensors).")
def train_command(preset: str, epochs: int | None, seed: int, batch_size: int | None,
                  lr: float | None, limit: int | None, out: str | None) -> None:
    """Train TinyVGG on the real dataset in ../shared and write safetensors weights.

    Prints the loss, train accuracy and held-out test accuracy after every epoch.

    \b
    Example:
      cnnanim train --preset seed --epochs 4 -o weights/seed.safetensors
    """
    from cnnanim.network.train import train

    train(preset, epochs=epochs, seed=seed, batch_size=batch_size, lr=lr,
          out=out or os.path.join("weights", f"{preset}.safetensors"), limit=limit, log=click.echo)


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

    click.echo(f"wrote {import_torch(file, out, classes=classes, classes_file=classes_file, image_size=image_size, padding=padding)}")


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
