"""Options shared by several commands, each defined once."""

from __future__ import annotations

import click

#: Manim quality letters (kept here so building --help never imports the renderer).
QUALITY_LETTERS = ("l", "m", "h", "p", "k")

image_option = click.option("--image", "-i", "image", type=click.Path(dir_okay=True), default=None,
                            help="Image file (default: the bundled CC0 coffee photo).")
weights_option = click.option("--weights", "-w", "weights", type=click.Path(), default=None,
                              help="Weights: explainer, seed, cnn-explainer (shipped) or a "
                                   ".safetensors file (default: explainer).")


class _OneLineUsageError(click.ClickException):
    """A bad option or argument, shown as one ``Error: ...`` line (exit code 2, like click)."""

    exit_code = 2


class OneLineCommand(click.Command):
    """A command whose usage errors are one line (no usage block), naming the valid choices."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as e:
            name = " ".join(filter(None, [parent.command_path if parent else "", info_name]))
            raise _OneLineUsageError(f"{e.format_message()} (see '{name} --help')") from None


def lang_option(f):
    """--lang: the language of narration, captions and on-screen words."""
    from cnnanim.speech.narration import LANGUAGES

    return click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
                        help="Language of narration, captions and on-screen words.")(f)


def scene_options(f):
    """--image, --weights, --layer, --neuron, --lang (shared by render, preview and gif)."""
    f = lang_option(f)
    f = click.option("--neuron", "-n", type=int, default=None,
                     help="Output channel of the layer (default: the scene's).")(f)
    f = click.option("--layer", "-l", default=None,
                     help="Stage the scene explains, e.g. conv_1_2 (default: the scene's).")(f)
    f = weights_option(f)
    f = image_option(f)
    return f


def voice_option(f):
    """--voice for commands that write a video (GIFs and stills are always silent)."""
    from cnnanim.speech.voice import VOICES

    return click.option("--voice", type=click.Choice(VOICES), default="auto", show_default=True,
                        help="Narration voice for videos: auto (Piper for English if installed, "
                             "else espeak-ng), espeak, piper, or none (captions only).")(f)


def lecture_options(f):
    """--lang, --quality, --image, --weights, --voice (shared by lecture and slides)."""
    f = voice_option(f)
    f = weights_option(f)
    f = image_option(f)
    f = quality_option(f)
    f = lang_option(f)
    return f


def hyper_options(f):
    """--input-size, --kernel, --padding, --stride (the hyper-parameter scenes' settings)."""
    f = click.option("--stride", "stride_amount", type=click.IntRange(1, None), default=None,
                     help="Stride S (padding, kernel-size, stride scenes).")(f)
    f = click.option("--padding", "padding_amount", type=click.IntRange(0, None), default=None,
                     help="Zero padding P (padding, kernel-size, stride scenes).")(f)
    f = click.option("--kernel", "kernel", type=click.IntRange(1, None), default=None,
                     help="Kernel size K (padding, kernel-size, stride scenes).")(f)
    f = click.option("--input-size", "input_size", type=click.IntRange(1, None), default=None,
                     help="Input size N of the hyper-parameter scenes' patch; an invalid "
                          "combination renders the failure scene.")(f)
    return f


def quality_option(f):
    """-q/--quality: Manim's quality letters (l is the default)."""
    return click.option("--quality", "-q", type=click.Choice(QUALITY_LETTERS), default="l",
                        show_default=True,
                        help="l 854x480@15, m 1280x720@30, h 1920x1080@60, p 1440p, k 4K.")(f)


def fast_option(f):
    return click.option("--fast", is_flag=True, default=False,
                        help="Encode with x264's ultrafast preset: faster render, bigger file.")(f)


def jobs_option(f):
    return click.option("--jobs", "-j", type=click.IntRange(1, None), default=None,
                        help="Scenes or parts rendered at once, one per process (default: "
                             "$CNNANIM_JOBS, else one per core, at most 2).")(f)
