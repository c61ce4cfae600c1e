"""cnnanim scenes: one module per concept; plain Manim scenes."""
