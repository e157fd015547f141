"""One router per resource: health, submissions, assignments."""
