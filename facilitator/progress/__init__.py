"""Credits beyond attendance (make-ups, overrides) and make-up plans."""
