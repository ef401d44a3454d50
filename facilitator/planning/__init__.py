"""Schedule planning: what a weekly pattern implies, and the what-if simulator as a page."""
