"""A chapter's title card in the lecture: its number, its title and where it sits, spoken."""

from __future__ import annotations

from manim import DOWN, FadeIn, FadeOut, Line, VGroup

from cnnanim.draw import colors
from cnnanim.draw.text import label
from cnnanim.scenes.base import CnnScene
from cnnanim.speech.narration import check_lang

#: Widest title (scene units); longer titles are scaled down to it.
TITLE_MAX_WIDTH = 12
#: Length of the bar showing where the chapter sits in the lecture.
BAR_WIDTH = 8.0


class TitleCard(CnnScene):
    """A chapter's title card: its number and title, spoken."""

    cli_name = ""  # not a scene of its own
    description = "Chapter title card of the lecture"
    valid_layer_kinds = ("conv", "relu", "pool", "flatten", "linear")
    number: int = 1
    total: int = 1
    title: str = ""

    def setup(self) -> None:
        """Only the language: a title card needs no trace."""
        self.lang = check_lang(self._setting("lang", "CNNANIM_LANG", "en"))

    def get_card(self) -> VGroup:
        """Chapter number, title and a bar showing where the chapter sits in the lecture."""
        n, total = type(self).number, type(self).total
        head = self.get_words("chapter", 30, colors.MUTED, n=n, total=total)
        title = label(type(self).title, 64, lang=self.lang, weight="BOLD")
        if title.width > TITLE_MAX_WIDTH:
            title.scale_to_fit_width(TITLE_MAX_WIDTH)
        card = VGroup(head, title, self.get_progress(n, total)).arrange(DOWN, buff=0.5)
        return card.move_to([0, 0.6, 0])

    def get_progress(self, n: int, total: int) -> VGroup:
        """A grey track with the first ``n`` of ``total`` chapters filled in."""
        half = BAR_WIDTH / 2
        track = Line([-half, 0, 0], [half, 0, 0], stroke_width=6, color="#e6e6e6")
        done = Line([-half, 0, 0], [-half + BAR_WIDTH * n / max(1, total), 0, 0],
                    stroke_width=6, color=colors.HIGHLIGHT)
        return VGroup(track, done)

    def construct(self) -> None:
        card = self.get_card()
        with self.beat("card", n=type(self).number, title=type(self).title) as b:
            self.play(FadeIn(card, shift=0.2 * DOWN), run_time=b.part(0.3))
        if not type(self).fade_out_at_end:  # in the lecture, the part's own fade-out ends it
            self.play(FadeOut(card), run_time=0.4)
