"""The frame's layout: the safe area inside the frame, the title line and the caption band.

Scenes place their content with the ``place_*``/``get_*`` builders on these constants
instead of raw coordinates. The frame is Manim's: 8 units high, 16:9.
"""

from __future__ import annotations

#: Frame size in scene units (Manim's default camera).
FRAME_HEIGHT = 8.0
FRAME_WIDTH = FRAME_HEIGHT * 16 / 9

#: Height of the caption band at the bottom of the frame; scenes keep content above it.
CAPTION_BAND = 1.4


#: Lowest y a scene's content should reach (frame height 8).
CONTENT_BOTTOM = -4.0 + CAPTION_BAND + 0.15

#: Margin kept clear at the left and right edges of the frame.
SIDE_MARGIN = 0.35
#: Left and right x of the safe area.
SAFE_LEFT = -FRAME_WIDTH / 2 + SIDE_MARGIN
SAFE_RIGHT = FRAME_WIDTH / 2 - SIDE_MARGIN
#: The title line: titles sit at the top-left, ``TITLE_BUFF`` from the corner.
TITLE_BUFF = 0.35
#: Highest y a scene's content should reach (below the title line).
CONTENT_TOP = FRAME_HEIGHT / 2 - 0.95
