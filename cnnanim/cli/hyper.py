"""Hyper-parameter commands of the ``cnnanim`` CLI (check-conv)."""

from __future__ import annotations

import click

from cnnanim.cli.app import main


@main.command("check-conv")
@click.argument("n", type=click.IntRange(1, None))
@click.argument("k", type=click.IntRange(1, None))
@click.argument("p", type=click.IntRange(0, None), required=False, default=0)
@click.argument("s", type=click.IntRange(1, None), required=False, default=1)
def check_conv_command(n: int, k: int, p: int, s: int) -> None:
    """Check a convolution: input size N, kernel K, padding P (default 0), stride S (default 1).

    Prints the output size and the formula (W - K + 2P) / S + 1 with the numbers, exit status 0;
    for an invalid combination prints why (with the fraction) and exits with status 1.

    \b
    Example:
      cnnanim check-conv 64 3 0 1     # 62, TinyVGG's first layer
      cnnanim check-conv 7 3 0 3      # invalid: 7/3
    """
    from cnnanim.explain.maths import check_conv

    c = check_conv(n, k, p, s)
    if c.valid:
        click.echo(f"output size {c.output_size}x{c.output_size}: {c.formula}")
        return
    click.echo(f"invalid: {c.reason}")
    click.echo(f"  {c.formula}")
    raise SystemExit(1)
