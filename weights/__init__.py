"""Shipped TinyVGG weights (installed as package data; see README.md here)."""
