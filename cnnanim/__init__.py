"""cnnanim: narrated animations of a real, trained TinyVGG."""
