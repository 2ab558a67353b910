"""The suite tests itself: deliberately broken backends must make it fail."""
